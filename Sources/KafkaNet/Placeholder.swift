public enum KafkaNetPlaceholder {}
