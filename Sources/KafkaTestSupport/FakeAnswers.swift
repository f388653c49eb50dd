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

extension JoinGroupResponse {
    /// A fake coordinator's JoinGroup answer for a group of one: `request`'s member joins
    /// generation `generation` as the leader, with its own first protocol and metadata (so it
    /// assigns every partition to itself). Before that, a member without an id gets
    /// MEMBER_ID_REQUIRED and "m-1" (`memberIdRequired`).
    public static func soleLeader(_ request: JoinGroupRequest, generation: Int32) -> JoinGroupResponse {
        var r = JoinGroupResponse()
        r.generationId = generation
        r.memberId = request.memberId
        r.leader = request.memberId
        r.protocolName = request.protocols.first?.name
        var m = JoinGroupResponse.Member()
        m.memberId = request.memberId
        m.metadata = request.protocols.first?.metadata ?? []
        r.members = [m]
        return r
    }

    /// MEMBER_ID_REQUIRED with the id "m-1" (KIP-394), the answer to a first join without one.
    public static var memberIdRequired: JoinGroupResponse {
        var r = JoinGroupResponse()
        r.errorCode = KafkaErrorCode.memberIdRequired.rawValue
        r.memberId = "m-1"
        return r
    }
}
