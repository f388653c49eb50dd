// Every error code Apache Kafka defines (Errors.java), with its wire name and whether the
// Java client treats it as retriable (its exception extends RetriableException).
// Source: apache/kafka clients/src/main/java/org/apache/kafka/common/protocol/Errors.java (4.x).
// Codes -1 through 136 (trunk as of August 2026, heading to 4.4). Long default messages are shortened.

extension KafkaErrorCode {
    /// -1 UNKNOWN_SERVER_ERROR: The server experienced an unexpected error when processing the request.
    public static let unknownServerError = KafkaErrorCode(rawValue: -1)
    /// 0 NONE: No error.
    public static let noError = KafkaErrorCode(rawValue: 0)
    /// 1 OFFSET_OUT_OF_RANGE: The requested offset is not within the range of offsets maintained by the server.
    public static let offsetOutOfRange = KafkaErrorCode(rawValue: 1)
    /// 2 CORRUPT_MESSAGE: This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.
    public static let corruptMessage = KafkaErrorCode(rawValue: 2)
    /// 3 UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition.
    public static let unknownTopicOrPartition = KafkaErrorCode(rawValue: 3)
    /// 4 INVALID_FETCH_SIZE: The requested fetch size is invalid.
    public static let invalidFetchSize = KafkaErrorCode(rawValue: 4)
    /// 5 LEADER_NOT_AVAILABLE: There is no leader for this topic-partition as we are in the middle of a leadership election.
    public static let leaderNotAvailable = KafkaErrorCode(rawValue: 5)
    /// 6 NOT_LEADER_OR_FOLLOWER: The broker is not the leader (for leader-only requests) or not a replica (for requests any replica may serve) of the topic partition.
    public static let notLeaderOrFollower = KafkaErrorCode(rawValue: 6)
    /// 7 REQUEST_TIMED_OUT: The request timed out.
    public static let requestTimedOut = KafkaErrorCode(rawValue: 7)
    /// 8 BROKER_NOT_AVAILABLE: The broker is not available.
    public static let brokerNotAvailable = KafkaErrorCode(rawValue: 8)
    /// 9 REPLICA_NOT_AVAILABLE: The replica is not available for the requested topic-partition.
    public static let replicaNotAvailable = KafkaErrorCode(rawValue: 9)
    /// 10 MESSAGE_TOO_LARGE: The request included a message larger than the max message size the server will accept.
    public static let messageTooLarge = KafkaErrorCode(rawValue: 10)
    /// 11 STALE_CONTROLLER_EPOCH: The controller moved to another broker.
    public static let staleControllerEpoch = KafkaErrorCode(rawValue: 11)
    /// 12 OFFSET_METADATA_TOO_LARGE: The metadata field of the offset request was too large.
    public static let offsetMetadataTooLarge = KafkaErrorCode(rawValue: 12)
    /// 13 NETWORK_EXCEPTION: The server disconnected before a response was received.
    public static let networkException = KafkaErrorCode(rawValue: 13)
    /// 14 COORDINATOR_LOAD_IN_PROGRESS: The coordinator is loading and hence can't process requests.
    public static let coordinatorLoadInProgress = KafkaErrorCode(rawValue: 14)
    /// 15 COORDINATOR_NOT_AVAILABLE: The coordinator is not available.
    public static let coordinatorNotAvailable = KafkaErrorCode(rawValue: 15)
    /// 16 NOT_COORDINATOR: This is not the correct coordinator.
    public static let notCoordinator = KafkaErrorCode(rawValue: 16)
    /// 17 INVALID_TOPIC_EXCEPTION: The request attempted to perform an operation on an invalid topic.
    public static let invalidTopicException = KafkaErrorCode(rawValue: 17)
    /// 18 RECORD_LIST_TOO_LARGE: The request included message batch larger than the configured segment size on the server.
    public static let recordListTooLarge = KafkaErrorCode(rawValue: 18)
    /// 19 NOT_ENOUGH_REPLICAS: Messages are rejected since there are fewer in-sync replicas than required.
    public static let notEnoughReplicas = KafkaErrorCode(rawValue: 19)
    /// 20 NOT_ENOUGH_REPLICAS_AFTER_APPEND: Messages are written to the log, but to fewer in-sync replicas than required.
    public static let notEnoughReplicasAfterAppend = KafkaErrorCode(rawValue: 20)
    /// 21 INVALID_REQUIRED_ACKS: Produce request specified an invalid value for required acks.
    public static let invalidRequiredAcks = KafkaErrorCode(rawValue: 21)
    /// 22 ILLEGAL_GENERATION: Specified group generation id is not valid.
    public static let illegalGeneration = KafkaErrorCode(rawValue: 22)
    /// 23 INCONSISTENT_GROUP_PROTOCOL: The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.
    public static let inconsistentGroupProtocol = KafkaErrorCode(rawValue: 23)
    /// 24 INVALID_GROUP_ID: The group id is invalid.
    public static let invalidGroupId = KafkaErrorCode(rawValue: 24)
    /// 25 UNKNOWN_MEMBER_ID: The coordinator is not aware of this member.
    public static let unknownMemberId = KafkaErrorCode(rawValue: 25)
    /// 26 INVALID_SESSION_TIMEOUT: The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).
    public static let invalidSessionTimeout = KafkaErrorCode(rawValue: 26)
    /// 27 REBALANCE_IN_PROGRESS: The group is rebalancing, so a rejoin is needed.
    public static let rebalanceInProgress = KafkaErrorCode(rawValue: 27)
    /// 28 INVALID_COMMIT_OFFSET_SIZE: The committing offset data size is not valid.
    public static let invalidCommitOffsetSize = KafkaErrorCode(rawValue: 28)
    /// 29 TOPIC_AUTHORIZATION_FAILED: Topic authorization failed.
    public static let topicAuthorizationFailed = KafkaErrorCode(rawValue: 29)
    /// 30 GROUP_AUTHORIZATION_FAILED: Group authorization failed.
    public static let groupAuthorizationFailed = KafkaErrorCode(rawValue: 30)
    /// 31 CLUSTER_AUTHORIZATION_FAILED: Cluster authorization failed.
    public static let clusterAuthorizationFailed = KafkaErrorCode(rawValue: 31)
    /// 32 INVALID_TIMESTAMP: The timestamp of the message is out of acceptable range.
    public static let invalidTimestamp = KafkaErrorCode(rawValue: 32)
    /// 33 UNSUPPORTED_SASL_MECHANISM: The broker does not support the requested SASL mechanism.
    public static let unsupportedSaslMechanism = KafkaErrorCode(rawValue: 33)
    /// 34 ILLEGAL_SASL_STATE: Request is not valid given the current SASL state.
    public static let illegalSaslState = KafkaErrorCode(rawValue: 34)
    /// 35 UNSUPPORTED_VERSION: The version of API is not supported.
    public static let unsupportedVersion = KafkaErrorCode(rawValue: 35)
    /// 36 TOPIC_ALREADY_EXISTS: Topic with this name already exists.
    public static let topicAlreadyExists = KafkaErrorCode(rawValue: 36)
    /// 37 INVALID_PARTITIONS: Number of partitions is below 1.
    public static let invalidPartitions = KafkaErrorCode(rawValue: 37)
    /// 38 INVALID_REPLICATION_FACTOR: Replication factor is below 1 or larger than the number of available brokers.
    public static let invalidReplicationFactor = KafkaErrorCode(rawValue: 38)
    /// 39 INVALID_REPLICA_ASSIGNMENT: Replica assignment is invalid.
    public static let invalidReplicaAssignment = KafkaErrorCode(rawValue: 39)
    /// 40 INVALID_CONFIG: Configuration is invalid.
    public static let invalidConfig = KafkaErrorCode(rawValue: 40)
    /// 41 NOT_CONTROLLER: This is not the correct controller for this cluster.
    public static let notController = KafkaErrorCode(rawValue: 41)
    /// 42 INVALID_REQUEST: This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.
    public static let invalidRequest = KafkaErrorCode(rawValue: 42)
    /// 43 UNSUPPORTED_FOR_MESSAGE_FORMAT: The message format version on the broker does not support the request.
    public static let unsupportedForMessageFormat = KafkaErrorCode(rawValue: 43)
    /// 44 POLICY_VIOLATION: Request parameters do not satisfy the configured policy.
    public static let policyViolation = KafkaErrorCode(rawValue: 44)
    /// 45 OUT_OF_ORDER_SEQUENCE_NUMBER: The broker received an out of order sequence number.
    public static let outOfOrderSequenceNumber = KafkaErrorCode(rawValue: 45)
    /// 46 DUPLICATE_SEQUENCE_NUMBER: The broker received a duplicate sequence number.
    public static let duplicateSequenceNumber = KafkaErrorCode(rawValue: 46)
    /// 47 INVALID_PRODUCER_EPOCH: Producer attempted to produce with an old epoch.
    public static let invalidProducerEpoch = KafkaErrorCode(rawValue: 47)
    /// 48 INVALID_TXN_STATE: The producer attempted a transactional operation in an invalid state.
    public static let invalidTxnState = KafkaErrorCode(rawValue: 48)
    /// 49 INVALID_PRODUCER_ID_MAPPING: The producer attempted to use a producer id which is not currently assigned to its transactional id.
    public static let invalidProducerIdMapping = KafkaErrorCode(rawValue: 49)
    /// 50 INVALID_TRANSACTION_TIMEOUT: The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).
    public static let invalidTransactionTimeout = KafkaErrorCode(rawValue: 50)
    /// 51 CONCURRENT_TRANSACTIONS: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.
    public static let concurrentTransactions = KafkaErrorCode(rawValue: 51)
    /// 52 TRANSACTION_COORDINATOR_FENCED: Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.
    public static let transactionCoordinatorFenced = KafkaErrorCode(rawValue: 52)
    /// 53 TRANSACTIONAL_ID_AUTHORIZATION_FAILED: Transactional Id authorization failed.
    public static let transactionalIdAuthorizationFailed = KafkaErrorCode(rawValue: 53)
    /// 54 SECURITY_DISABLED: Security features are disabled.
    public static let securityDisabled = KafkaErrorCode(rawValue: 54)
    /// 55 OPERATION_NOT_ATTEMPTED: The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest.
    public static let operationNotAttempted = KafkaErrorCode(rawValue: 55)
    /// 56 KAFKA_STORAGE_ERROR: Disk error when trying to access log file on the disk.
    public static let kafkaStorageError = KafkaErrorCode(rawValue: 56)
    /// 57 LOG_DIR_NOT_FOUND: The user-specified log directory is not found in the broker config.
    public static let logDirNotFound = KafkaErrorCode(rawValue: 57)
    /// 58 SASL_AUTHENTICATION_FAILED: SASL Authentication failed.
    public static let saslAuthenticationFailed = KafkaErrorCode(rawValue: 58)
    /// 59 UNKNOWN_PRODUCER_ID: The broker could not locate the producer metadata for this producerId (for instance, its records were removed after their retention time elapsed).
    public static let unknownProducerId = KafkaErrorCode(rawValue: 59)
    /// 60 REASSIGNMENT_IN_PROGRESS: A partition reassignment is in progress.
    public static let reassignmentInProgress = KafkaErrorCode(rawValue: 60)
    /// 61 DELEGATION_TOKEN_AUTH_DISABLED: Delegation Token feature is not enabled.
    public static let delegationTokenAuthDisabled = KafkaErrorCode(rawValue: 61)
    /// 62 DELEGATION_TOKEN_NOT_FOUND: Delegation Token is not found on server.
    public static let delegationTokenNotFound = KafkaErrorCode(rawValue: 62)
    /// 63 DELEGATION_TOKEN_OWNER_MISMATCH: Specified Principal is not valid Owner/Renewer.
    public static let delegationTokenOwnerMismatch = KafkaErrorCode(rawValue: 63)
    /// 64 DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels.
    public static let delegationTokenRequestNotAllowed = KafkaErrorCode(rawValue: 64)
    /// 65 DELEGATION_TOKEN_AUTHORIZATION_FAILED: Delegation Token authorization failed.
    public static let delegationTokenAuthorizationFailed = KafkaErrorCode(rawValue: 65)
    /// 66 DELEGATION_TOKEN_EXPIRED: Delegation Token is expired.
    public static let delegationTokenExpired = KafkaErrorCode(rawValue: 66)
    /// 67 INVALID_PRINCIPAL_TYPE: Supplied principalType is not supported.
    public static let invalidPrincipalType = KafkaErrorCode(rawValue: 67)
    /// 68 NON_EMPTY_GROUP: The group is not empty.
    public static let nonEmptyGroup = KafkaErrorCode(rawValue: 68)
    /// 69 GROUP_ID_NOT_FOUND: The group id does not exist.
    public static let groupIdNotFound = KafkaErrorCode(rawValue: 69)
    /// 70 FETCH_SESSION_ID_NOT_FOUND: The fetch session ID was not found.
    public static let fetchSessionIdNotFound = KafkaErrorCode(rawValue: 70)
    /// 71 INVALID_FETCH_SESSION_EPOCH: The fetch session epoch is invalid.
    public static let invalidFetchSessionEpoch = KafkaErrorCode(rawValue: 71)
    /// 72 LISTENER_NOT_FOUND: There is no listener on the leader broker that matches the listener on which metadata request was processed.
    public static let listenerNotFound = KafkaErrorCode(rawValue: 72)
    /// 73 TOPIC_DELETION_DISABLED: Topic deletion is disabled.
    public static let topicDeletionDisabled = KafkaErrorCode(rawValue: 73)
    /// 74 FENCED_LEADER_EPOCH: The leader epoch in the request is older than the epoch on the broker.
    public static let fencedLeaderEpoch = KafkaErrorCode(rawValue: 74)
    /// 75 UNKNOWN_LEADER_EPOCH: The leader epoch in the request is newer than the epoch on the broker.
    public static let unknownLeaderEpoch = KafkaErrorCode(rawValue: 75)
    /// 76 UNSUPPORTED_COMPRESSION_TYPE: The requesting client does not support the compression type of given partition.
    public static let unsupportedCompressionType = KafkaErrorCode(rawValue: 76)
    /// 77 STALE_BROKER_EPOCH: Broker epoch has changed.
    public static let staleBrokerEpoch = KafkaErrorCode(rawValue: 77)
    /// 78 OFFSET_NOT_AVAILABLE: The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.
    public static let offsetNotAvailable = KafkaErrorCode(rawValue: 78)
    /// 79 MEMBER_ID_REQUIRED: The group member needs to have a valid member id before actually entering a consumer group.
    public static let memberIdRequired = KafkaErrorCode(rawValue: 79)
    /// 80 PREFERRED_LEADER_NOT_AVAILABLE: The preferred leader was not available.
    public static let preferredLeaderNotAvailable = KafkaErrorCode(rawValue: 80)
    /// 81 GROUP_MAX_SIZE_REACHED: The group has reached its maximum size.
    public static let groupMaxSizeReached = KafkaErrorCode(rawValue: 81)
    /// 82 FENCED_INSTANCE_ID: The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.
    public static let fencedInstanceId = KafkaErrorCode(rawValue: 82)
    /// 83 ELIGIBLE_LEADERS_NOT_AVAILABLE: Eligible topic partition leaders are not available.
    public static let eligibleLeadersNotAvailable = KafkaErrorCode(rawValue: 83)
    /// 84 ELECTION_NOT_NEEDED: Leader election not needed for topic partition.
    public static let electionNotNeeded = KafkaErrorCode(rawValue: 84)
    /// 85 NO_REASSIGNMENT_IN_PROGRESS: No partition reassignment is in progress.
    public static let noReassignmentInProgress = KafkaErrorCode(rawValue: 85)
    /// 86 GROUP_SUBSCRIBED_TO_TOPIC: Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.
    public static let groupSubscribedToTopic = KafkaErrorCode(rawValue: 86)
    /// 87 INVALID_RECORD: This record has failed the validation on broker and hence will be rejected.
    public static let invalidRecord = KafkaErrorCode(rawValue: 87)
    /// 88 UNSTABLE_OFFSET_COMMIT: There are unstable offsets that need to be cleared.
    public static let unstableOffsetCommit = KafkaErrorCode(rawValue: 88)
    /// 89 THROTTLING_QUOTA_EXCEEDED: The throttling quota has been exceeded.
    public static let throttlingQuotaExceeded = KafkaErrorCode(rawValue: 89)
    /// 90 PRODUCER_FENCED: There is a newer producer with the same transactionalId which fences the current one.
    public static let producerFenced = KafkaErrorCode(rawValue: 90)
    /// 91 RESOURCE_NOT_FOUND: A request illegally referred to a resource that does not exist.
    public static let resourceNotFound = KafkaErrorCode(rawValue: 91)
    /// 92 DUPLICATE_RESOURCE: A request illegally referred to the same resource twice.
    public static let duplicateResource = KafkaErrorCode(rawValue: 92)
    /// 93 UNACCEPTABLE_CREDENTIAL: Requested credential would not meet criteria for acceptability.
    public static let unacceptableCredential = KafkaErrorCode(rawValue: 93)
    /// 94 INCONSISTENT_VOTER_SET: Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters.
    public static let inconsistentVoterSet = KafkaErrorCode(rawValue: 94)
    /// 95 INVALID_UPDATE_VERSION: The given update version was invalid.
    public static let invalidUpdateVersion = KafkaErrorCode(rawValue: 95)
    /// 96 FEATURE_UPDATE_FAILED: Unable to update finalized features due to an unexpected server error.
    public static let featureUpdateFailed = KafkaErrorCode(rawValue: 96)
    /// 97 PRINCIPAL_DESERIALIZATION_FAILURE: Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup.
    public static let principalDeserializationFailure = KafkaErrorCode(rawValue: 97)
    /// 98 SNAPSHOT_NOT_FOUND: Requested snapshot was not found.
    public static let snapshotNotFound = KafkaErrorCode(rawValue: 98)
    /// 99 POSITION_OUT_OF_RANGE: Requested position is not greater than or equal to zero, and less than the size of the snapshot.
    public static let positionOutOfRange = KafkaErrorCode(rawValue: 99)
    /// 100 UNKNOWN_TOPIC_ID: This server does not host this topic ID.
    public static let unknownTopicId = KafkaErrorCode(rawValue: 100)
    /// 101 DUPLICATE_BROKER_REGISTRATION: This broker ID is already in use.
    public static let duplicateBrokerRegistration = KafkaErrorCode(rawValue: 101)
    /// 102 BROKER_ID_NOT_REGISTERED: The given broker ID was not registered.
    public static let brokerIdNotRegistered = KafkaErrorCode(rawValue: 102)
    /// 103 INCONSISTENT_TOPIC_ID: The log's topic ID did not match the topic ID in the request.
    public static let inconsistentTopicId = KafkaErrorCode(rawValue: 103)
    /// 104 INCONSISTENT_CLUSTER_ID: The clusterId in the request does not match that found on the server.
    public static let inconsistentClusterId = KafkaErrorCode(rawValue: 104)
    /// 105 TRANSACTIONAL_ID_NOT_FOUND: The transactionalId could not be found.
    public static let transactionalIdNotFound = KafkaErrorCode(rawValue: 105)
    /// 106 FETCH_SESSION_TOPIC_ID_ERROR: The fetch session encountered inconsistent topic ID usage.
    public static let fetchSessionTopicIdError = KafkaErrorCode(rawValue: 106)
    /// 107 INELIGIBLE_REPLICA: The new ISR contains at least one ineligible replica.
    public static let ineligibleReplica = KafkaErrorCode(rawValue: 107)
    /// 108 NEW_LEADER_ELECTED: The AlterPartition request successfully updated the partition state but the leader has changed.
    public static let newLeaderElected = KafkaErrorCode(rawValue: 108)
    /// 109 OFFSET_MOVED_TO_TIERED_STORAGE: The requested offset is moved to tiered storage.
    public static let offsetMovedToTieredStorage = KafkaErrorCode(rawValue: 109)
    /// 110 FENCED_MEMBER_EPOCH: The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin.
    public static let fencedMemberEpoch = KafkaErrorCode(rawValue: 110)
    /// 111 UNRELEASED_INSTANCE_ID: The instance ID is still used by another member in the consumer group. That member must leave first.
    public static let unreleasedInstanceId = KafkaErrorCode(rawValue: 111)
    /// 112 UNSUPPORTED_ASSIGNOR: The assignor or its version range is not supported by the consumer group.
    public static let unsupportedAssignor = KafkaErrorCode(rawValue: 112)
    /// 113 STALE_MEMBER_EPOCH: The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API.
    public static let staleMemberEpoch = KafkaErrorCode(rawValue: 113)
    /// 114 MISMATCHED_ENDPOINT_TYPE: The request was sent to an endpoint of the wrong type.
    public static let mismatchedEndpointType = KafkaErrorCode(rawValue: 114)
    /// 115 UNSUPPORTED_ENDPOINT_TYPE: This endpoint type is not supported yet.
    public static let unsupportedEndpointType = KafkaErrorCode(rawValue: 115)
    /// 116 UNKNOWN_CONTROLLER_ID: This controller ID is not known.
    public static let unknownControllerId = KafkaErrorCode(rawValue: 116)
    /// 117 UNKNOWN_SUBSCRIPTION_ID: Client sent a push telemetry request with an invalid or outdated subscription ID.
    public static let unknownSubscriptionId = KafkaErrorCode(rawValue: 117)
    /// 118 TELEMETRY_TOO_LARGE: Client sent a push telemetry request larger than the maximum size the broker will accept.
    public static let telemetryTooLarge = KafkaErrorCode(rawValue: 118)
    /// 119 INVALID_REGISTRATION: The controller has considered the broker registration to be invalid.
    public static let invalidRegistration = KafkaErrorCode(rawValue: 119)
    /// 120 TRANSACTION_ABORTABLE: The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.
    public static let transactionAbortable = KafkaErrorCode(rawValue: 120)
    /// 121 INVALID_RECORD_STATE: The record state is invalid. The acknowledgement of delivery could not be completed.
    public static let invalidRecordState = KafkaErrorCode(rawValue: 121)
    /// 122 SHARE_SESSION_NOT_FOUND: The share session was not found.
    public static let shareSessionNotFound = KafkaErrorCode(rawValue: 122)
    /// 123 INVALID_SHARE_SESSION_EPOCH: The share session epoch is invalid.
    public static let invalidShareSessionEpoch = KafkaErrorCode(rawValue: 123)
    /// 124 FENCED_STATE_EPOCH: The coordinator rejected the request because the state epoch did not match.
    public static let fencedStateEpoch = KafkaErrorCode(rawValue: 124)
    /// 125 INVALID_VOTER_KEY: The voter key doesn't match the receiving replica's key.
    public static let invalidVoterKey = KafkaErrorCode(rawValue: 125)
    /// 126 DUPLICATE_VOTER: The voter is already part of the set of voters.
    public static let duplicateVoter = KafkaErrorCode(rawValue: 126)
    /// 127 VOTER_NOT_FOUND: The voter is not part of the set of voters.
    public static let voterNotFound = KafkaErrorCode(rawValue: 127)
    /// 128 INVALID_REGULAR_EXPRESSION: The regular expression is not valid.
    public static let invalidRegularExpression = KafkaErrorCode(rawValue: 128)
    /// 129 REBOOTSTRAP_REQUIRED: Client metadata is stale. The client should rebootstrap to obtain new metadata.
    public static let rebootstrapRequired = KafkaErrorCode(rawValue: 129)
    /// 130 STREAMS_INVALID_TOPOLOGY: The supplied topology is invalid.
    public static let streamsInvalidTopology = KafkaErrorCode(rawValue: 130)
    /// 131 STREAMS_INVALID_TOPOLOGY_EPOCH: The supplied topology epoch is invalid.
    public static let streamsInvalidTopologyEpoch = KafkaErrorCode(rawValue: 131)
    /// 132 STREAMS_TOPOLOGY_FENCED: The supplied topology epoch is outdated.
    public static let streamsTopologyFenced = KafkaErrorCode(rawValue: 132)
    /// 133 SHARE_SESSION_LIMIT_REACHED: The limit of share sessions has been reached.
    public static let shareSessionLimitReached = KafkaErrorCode(rawValue: 133)
    /// 134 GROUP_DELETION_FAILED: DeleteGroups could not complete; see the error message on the per-group result for details.
    public static let groupDeletionFailed = KafkaErrorCode(rawValue: 134)
    /// 135 STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED: The broker could not process the topology description update; see the error message for details.
    public static let streamsTopologyDescriptionUpdateFailed = KafkaErrorCode(rawValue: 135)
    /// 136 CONTROLLER_ID_NOT_REGISTERED: The given controller ID was not registered.
    public static let controllerIdNotRegistered = KafkaErrorCode(rawValue: 136)
}

extension KafkaErrorCode {
    /// Wire name, retriability and default message of every code Kafka defines, by number.
    static let known: [Int16: (name: String, retriable: Bool, message: String)] = [
        -1: ("UNKNOWN_SERVER_ERROR", false, "The server experienced an unexpected error when processing the request."),
        0: ("NONE", false, "No error."),
        1: ("OFFSET_OUT_OF_RANGE", false, "The requested offset is not within the range of offsets maintained by the server."),
        2: ("CORRUPT_MESSAGE", true, "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt."),
        3: ("UNKNOWN_TOPIC_OR_PARTITION", true, "This server does not host this topic-partition."),
        4: ("INVALID_FETCH_SIZE", false, "The requested fetch size is invalid."),
        5: ("LEADER_NOT_AVAILABLE", true, "There is no leader for this topic-partition as we are in the middle of a leadership election."),
        6: ("NOT_LEADER_OR_FOLLOWER", true, "The broker is not the leader (for leader-only requests) or not a replica (for requests any replica may serve) of the topic partition."),
        7: ("REQUEST_TIMED_OUT", true, "The request timed out."),
        8: ("BROKER_NOT_AVAILABLE", false, "The broker is not available."),
        9: ("REPLICA_NOT_AVAILABLE", true, "The replica is not available for the requested topic-partition."),
        10: ("MESSAGE_TOO_LARGE", false, "The request included a message larger than the max message size the server will accept."),
        11: ("STALE_CONTROLLER_EPOCH", false, "The controller moved to another broker."),
        12: ("OFFSET_METADATA_TOO_LARGE", false, "The metadata field of the offset request was too large."),
        13: ("NETWORK_EXCEPTION", true, "The server disconnected before a response was received."),
        14: ("COORDINATOR_LOAD_IN_PROGRESS", true, "The coordinator is loading and hence can't process requests."),
        15: ("COORDINATOR_NOT_AVAILABLE", true, "The coordinator is not available."),
        16: ("NOT_COORDINATOR", true, "This is not the correct coordinator."),
        17: ("INVALID_TOPIC_EXCEPTION", false, "The request attempted to perform an operation on an invalid topic."),
        18: ("RECORD_LIST_TOO_LARGE", false, "The request included message batch larger than the configured segment size on the server."),
        19: ("NOT_ENOUGH_REPLICAS", true, "Messages are rejected since there are fewer in-sync replicas than required."),
        20: ("NOT_ENOUGH_REPLICAS_AFTER_APPEND", true, "Messages are written to the log, but to fewer in-sync replicas than required."),
        21: ("INVALID_REQUIRED_ACKS", false, "Produce request specified an invalid value for required acks."),
        22: ("ILLEGAL_GENERATION", false, "Specified group generation id is not valid."),
        23: ("INCONSISTENT_GROUP_PROTOCOL", false, "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list."),
        24: ("INVALID_GROUP_ID", false, "The group id is invalid."),
        25: ("UNKNOWN_MEMBER_ID", false, "The coordinator is not aware of this member."),
        26: ("INVALID_SESSION_TIMEOUT", false, "The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms)."),
        27: ("REBALANCE_IN_PROGRESS", false, "The group is rebalancing, so a rejoin is needed."),
        28: ("INVALID_COMMIT_OFFSET_SIZE", false, "The committing offset data size is not valid."),
        29: ("TOPIC_AUTHORIZATION_FAILED", false, "Topic authorization failed."),
        30: ("GROUP_AUTHORIZATION_FAILED", false, "Group authorization failed."),
        31: ("CLUSTER_AUTHORIZATION_FAILED", false, "Cluster authorization failed."),
        32: ("INVALID_TIMESTAMP", false, "The timestamp of the message is out of acceptable range."),
        33: ("UNSUPPORTED_SASL_MECHANISM", false, "The broker does not support the requested SASL mechanism."),
        34: ("ILLEGAL_SASL_STATE", false, "Request is not valid given the current SASL state."),
        35: ("UNSUPPORTED_VERSION", false, "The version of API is not supported."),
        36: ("TOPIC_ALREADY_EXISTS", false, "Topic with this name already exists."),
        37: ("INVALID_PARTITIONS", false, "Number of partitions is below 1."),
        38: ("INVALID_REPLICATION_FACTOR", false, "Replication factor is below 1 or larger than the number of available brokers."),
        39: ("INVALID_REPLICA_ASSIGNMENT", false, "Replica assignment is invalid."),
        40: ("INVALID_CONFIG", false, "Configuration is invalid."),
        41: ("NOT_CONTROLLER", true, "This is not the correct controller for this cluster."),
        42: ("INVALID_REQUEST", false, "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details."),
        43: ("UNSUPPORTED_FOR_MESSAGE_FORMAT", false, "The message format version on the broker does not support the request."),
        44: ("POLICY_VIOLATION", false, "Request parameters do not satisfy the configured policy."),
        45: ("OUT_OF_ORDER_SEQUENCE_NUMBER", false, "The broker received an out of order sequence number."),
        46: ("DUPLICATE_SEQUENCE_NUMBER", false, "The broker received a duplicate sequence number."),
        47: ("INVALID_PRODUCER_EPOCH", false, "Producer attempted to produce with an old epoch."),
        48: ("INVALID_TXN_STATE", false, "The producer attempted a transactional operation in an invalid state."),
        49: ("INVALID_PRODUCER_ID_MAPPING", false, "The producer attempted to use a producer id which is not currently assigned to its transactional id."),
        50: ("INVALID_TRANSACTION_TIMEOUT", false, "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)."),
        51: ("CONCURRENT_TRANSACTIONS", true, "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing."),
        52: ("TRANSACTION_COORDINATOR_FENCED", false, "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer."),
        53: ("TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false, "Transactional Id authorization failed."),
        54: ("SECURITY_DISABLED", false, "Security features are disabled."),
        55: ("OPERATION_NOT_ATTEMPTED", false, "The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest."),
        56: ("KAFKA_STORAGE_ERROR", true, "Disk error when trying to access log file on the disk."),
        57: ("LOG_DIR_NOT_FOUND", false, "The user-specified log directory is not found in the broker config."),
        58: ("SASL_AUTHENTICATION_FAILED", false, "SASL Authentication failed."),
        59: ("UNKNOWN_PRODUCER_ID", false, "The broker could not locate the producer metadata for this producerId (for instance, its records were removed after their retention time elapsed)."),
        60: ("REASSIGNMENT_IN_PROGRESS", false, "A partition reassignment is in progress."),
        61: ("DELEGATION_TOKEN_AUTH_DISABLED", false, "Delegation Token feature is not enabled."),
        62: ("DELEGATION_TOKEN_NOT_FOUND", false, "Delegation Token is not found on server."),
        63: ("DELEGATION_TOKEN_OWNER_MISMATCH", false, "Specified Principal is not valid Owner/Renewer."),
        64: ("DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false, "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels."),
        65: ("DELEGATION_TOKEN_AUTHORIZATION_FAILED", false, "Delegation Token authorization failed."),
        66: ("DELEGATION_TOKEN_EXPIRED", false, "Delegation Token is expired."),
        67: ("INVALID_PRINCIPAL_TYPE", false, "Supplied principalType is not supported."),
        68: ("NON_EMPTY_GROUP", false, "The group is not empty."),
        69: ("GROUP_ID_NOT_FOUND", false, "The group id does not exist."),
        70: ("FETCH_SESSION_ID_NOT_FOUND", true, "The fetch session ID was not found."),
        71: ("INVALID_FETCH_SESSION_EPOCH", true, "The fetch session epoch is invalid."),
        72: ("LISTENER_NOT_FOUND", true, "There is no listener on the leader broker that matches the listener on which metadata request was processed."),
        73: ("TOPIC_DELETION_DISABLED", false, "Topic deletion is disabled."),
        74: ("FENCED_LEADER_EPOCH", true, "The leader epoch in the request is older than the epoch on the broker."),
        75: ("UNKNOWN_LEADER_EPOCH", true, "The leader epoch in the request is newer than the epoch on the broker."),
        76: ("UNSUPPORTED_COMPRESSION_TYPE", false, "The requesting client does not support the compression type of given partition."),
        77: ("STALE_BROKER_EPOCH", false, "Broker epoch has changed."),
        78: ("OFFSET_NOT_AVAILABLE", true, "The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing."),
        79: ("MEMBER_ID_REQUIRED", false, "The group member needs to have a valid member id before actually entering a consumer group."),
        80: ("PREFERRED_LEADER_NOT_AVAILABLE", true, "The preferred leader was not available."),
        81: ("GROUP_MAX_SIZE_REACHED", false, "The group has reached its maximum size."),
        82: ("FENCED_INSTANCE_ID", false, "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id."),
        83: ("ELIGIBLE_LEADERS_NOT_AVAILABLE", true, "Eligible topic partition leaders are not available."),
        84: ("ELECTION_NOT_NEEDED", true, "Leader election not needed for topic partition."),
        85: ("NO_REASSIGNMENT_IN_PROGRESS", false, "No partition reassignment is in progress."),
        86: ("GROUP_SUBSCRIBED_TO_TOPIC", false, "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it."),
        87: ("INVALID_RECORD", false, "This record has failed the validation on broker and hence will be rejected."),
        88: ("UNSTABLE_OFFSET_COMMIT", true, "There are unstable offsets that need to be cleared."),
        89: ("THROTTLING_QUOTA_EXCEEDED", true, "The throttling quota has been exceeded."),
        90: ("PRODUCER_FENCED", false, "There is a newer producer with the same transactionalId which fences the current one."),
        91: ("RESOURCE_NOT_FOUND", false, "A request illegally referred to a resource that does not exist."),
        92: ("DUPLICATE_RESOURCE", false, "A request illegally referred to the same resource twice."),
        93: ("UNACCEPTABLE_CREDENTIAL", false, "Requested credential would not meet criteria for acceptability."),
        94: ("INCONSISTENT_VOTER_SET", false, "Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters."),
        95: ("INVALID_UPDATE_VERSION", false, "The given update version was invalid."),
        96: ("FEATURE_UPDATE_FAILED", false, "Unable to update finalized features due to an unexpected server error."),
        97: ("PRINCIPAL_DESERIALIZATION_FAILURE", false, "Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup."),
        98: ("SNAPSHOT_NOT_FOUND", false, "Requested snapshot was not found."),
        99: ("POSITION_OUT_OF_RANGE", false, "Requested position is not greater than or equal to zero, and less than the size of the snapshot."),
        100: ("UNKNOWN_TOPIC_ID", true, "This server does not host this topic ID."),
        101: ("DUPLICATE_BROKER_REGISTRATION", false, "This broker ID is already in use."),
        102: ("BROKER_ID_NOT_REGISTERED", false, "The given broker ID was not registered."),
        103: ("INCONSISTENT_TOPIC_ID", true, "The log's topic ID did not match the topic ID in the request."),
        104: ("INCONSISTENT_CLUSTER_ID", false, "The clusterId in the request does not match that found on the server."),
        105: ("TRANSACTIONAL_ID_NOT_FOUND", false, "The transactionalId could not be found."),
        106: ("FETCH_SESSION_TOPIC_ID_ERROR", true, "The fetch session encountered inconsistent topic ID usage."),
        107: ("INELIGIBLE_REPLICA", false, "The new ISR contains at least one ineligible replica."),
        108: ("NEW_LEADER_ELECTED", false, "The AlterPartition request successfully updated the partition state but the leader has changed."),
        109: ("OFFSET_MOVED_TO_TIERED_STORAGE", false, "The requested offset is moved to tiered storage."),
        110: ("FENCED_MEMBER_EPOCH", false, "The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin."),
        111: ("UNRELEASED_INSTANCE_ID", false, "The instance ID is still used by another member in the consumer group. That member must leave first."),
        112: ("UNSUPPORTED_ASSIGNOR", false, "The assignor or its version range is not supported by the consumer group."),
        113: ("STALE_MEMBER_EPOCH", false, "The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API."),
        114: ("MISMATCHED_ENDPOINT_TYPE", false, "The request was sent to an endpoint of the wrong type."),
        115: ("UNSUPPORTED_ENDPOINT_TYPE", false, "This endpoint type is not supported yet."),
        116: ("UNKNOWN_CONTROLLER_ID", false, "This controller ID is not known."),
        117: ("UNKNOWN_SUBSCRIPTION_ID", false, "Client sent a push telemetry request with an invalid or outdated subscription ID."),
        118: ("TELEMETRY_TOO_LARGE", false, "Client sent a push telemetry request larger than the maximum size the broker will accept."),
        119: ("INVALID_REGISTRATION", false, "The controller has considered the broker registration to be invalid."),
        120: ("TRANSACTION_ABORTABLE", false, "The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID."),
        121: ("INVALID_RECORD_STATE", false, "The record state is invalid. The acknowledgement of delivery could not be completed."),
        122: ("SHARE_SESSION_NOT_FOUND", true, "The share session was not found."),
        123: ("INVALID_SHARE_SESSION_EPOCH", true, "The share session epoch is invalid."),
        124: ("FENCED_STATE_EPOCH", false, "The coordinator rejected the request because the state epoch did not match."),
        125: ("INVALID_VOTER_KEY", false, "The voter key doesn't match the receiving replica's key."),
        126: ("DUPLICATE_VOTER", false, "The voter is already part of the set of voters."),
        127: ("VOTER_NOT_FOUND", false, "The voter is not part of the set of voters."),
        128: ("INVALID_REGULAR_EXPRESSION", false, "The regular expression is not valid."),
        129: ("REBOOTSTRAP_REQUIRED", false, "Client metadata is stale. The client should rebootstrap to obtain new metadata."),
        130: ("STREAMS_INVALID_TOPOLOGY", false, "The supplied topology is invalid."),
        131: ("STREAMS_INVALID_TOPOLOGY_EPOCH", false, "The supplied topology epoch is invalid."),
        132: ("STREAMS_TOPOLOGY_FENCED", false, "The supplied topology epoch is outdated."),
        133: ("SHARE_SESSION_LIMIT_REACHED", true, "The limit of share sessions has been reached."),
        134: ("GROUP_DELETION_FAILED", false, "DeleteGroups could not complete; see the error message on the per-group result for details."),
        135: ("STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED", false, "The broker could not process the topology description update; see the error message for details."),
        136: ("CONTROLLER_ID_NOT_REGISTERED", false, "The given controller ID was not registered."),
    ]
}
