public import KafkaProtocol

extension FetchResponse {
    /// A fake broker's Fetch answer: every partition `request` names, each with `highWatermark`;
    /// the one fetching `partition` from `offset` also gets a batch holding one record (`value`,
    /// timestamp 1) at that offset. Fake group coordinators that also lead the partitions share it.
    public static func answering(_ request: FetchRequest, highWatermark: Int64, oneRecordFor partition: Int32, at offset: Int64, value: [UInt8]) -> FetchResponse {
        var r = FetchResponse()
        r.responses = request.topics.map { t in
            var out = FetchResponse.Topic()
            out.topic = t.topic
            out.topicId = t.topicId
            out.partitions = t.partitions.map { p in
                var rp = FetchResponse.Partition()
                rp.partitionIndex = p.partition
                rp.highWatermark = highWatermark
                if p.partition == partition && p.fetchOffset == offset {
                    var batch = RecordBatchBuilder(baseOffset: offset)
                    try? batch.append(timestamp: 1, key: nil, value: value)
                    rp.records = try? batch.build()
                }
                return rp
            }
            return out
        }
        return r
    }
}
