// `import KafkaClient` is all an application needs: the error type and codes (KafkaProtocol)
// and the connection-level settings such as TLS and SASL (KafkaNet) come with it.
@_exported public import KafkaProtocol
@_exported public import KafkaNet
