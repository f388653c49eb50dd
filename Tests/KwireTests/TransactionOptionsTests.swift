import Testing
@testable import kwire

/// `kwire produce --transactional-id` and `kwire copy` options.
@Suite struct TransactionOptionsTests {
    func produce(_ argv: [String]) throws -> ProduceTransactionOptions? {
        try ProduceTransactionOptions.parse(Arguments(["t"] + argv, valued: ProduceTransactionOptions.valued, flags: ProduceTransactionOptions.flags))
    }

    func copy(_ argv: [String]) throws -> CopyOptions {
        try CopyOptions.parse(Arguments(argv, valued: CopyOptions.valued, flags: CopyOptions.flags))
    }

    func usageError(_ body: () throws -> Any?) -> String? {
        do { _ = try body(); return nil } catch let e as CLIError { return e.code == 64 ? e.message : "exit \(e.code)" } catch { return "\(error)" }
    }

    @Test func produceTransactionOptions() throws {
        #expect(try produce([]) == nil)
        #expect(try produce(["--transactional-id", "tx"]) == ProduceTransactionOptions(transactionalId: "tx", size: nil, abort: false))
        #expect(try produce(["--transactional-id=tx", "--transaction-size", "5", "--abort"]) == ProduceTransactionOptions(transactionalId: "tx", size: 5, abort: true))
        #expect(usageError { try produce(["--transaction-size", "5"]) }?.contains("need --transactional-id") == true)
        #expect(usageError { try produce(["--abort"]) }?.contains("need --transactional-id") == true)
        #expect(usageError { try produce(["--transactional-id", "tx", "--transaction-size", "0"]) }?.contains("at least 1") == true)
        #expect(usageError { try produce(["--transactional-id", ""]) }?.contains("must not be empty") == true)
    }

    @Test func copyOptions() throws {
        let o = try copy(["a", "b", "--group", "g", "--transactional-id", "t"])
        #expect(o == CopyOptions(source: "a", destination: "b", group: "g", transactionalId: "t", transform: .none, exitAtEnd: false,
                                 transactionSize: 10_000, transactionTime: .milliseconds(100)))
        let u = try copy(["a", "b", "--group", "g", "--transactional-id", "t", "--transform", "upper", "--exit-at-end", "--transaction-size", "7", "--transaction-ms", "20"])
        #expect(u.transform == .upper && u.exitAtEnd && u.transactionSize == 7 && u.transactionTime == .milliseconds(20))
        #expect(usageError { try copy(["a", "--group", "g", "--transactional-id", "t"]) }?.contains("SRC and DST") == true)
        #expect(usageError { try copy(["a", "a", "--group", "g", "--transactional-id", "t"]) }?.contains("must differ") == true)
        #expect(usageError { try copy(["a", "b", "--transactional-id", "t"]) }?.contains("--group") == true)
        #expect(usageError { try copy(["a", "b", "--group", "g"]) }?.contains("--transactional-id") == true)
        #expect(usageError { try copy(["a", "b", "--group", "g", "--transactional-id", "t", "--transform", "lower"]) }?.contains("got 'lower'") == true)
    }

    @Test func upperTransformTouchesOnlyASCIILetters() {
        let v = Array("abc-XYZ ü 9z".utf8)
        #expect(CopyOptions.Transform.upper.apply(v[...]) == Array("ABC-XYZ ü 9Z".utf8))
        #expect(CopyOptions.Transform.none.apply(v[...]) == v)
        #expect(CopyOptions.Transform.upper.apply(nil) == nil)
    }
}
