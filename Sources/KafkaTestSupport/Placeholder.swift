public enum KafkaTestSupportPlaceholder {}
