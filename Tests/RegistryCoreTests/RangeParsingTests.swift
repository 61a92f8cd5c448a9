import Testing

@testable import RegistryCore

@Suite struct ContentRangeTests {
    @Test func parsesTheFormsClientsSend() throws {
        #expect(try ContentRange(parsing: "0-99").start == 0)
        #expect(try ContentRange(parsing: "bytes 100-199/1000", contentLength: 100).start == 100)
        #expect(try ContentRange(parsing: "5-4", contentLength: 0).length == 0)
    }

    @Test(arguments: ["", "-", "abc", "5-", "-5", "9-3", "1-2-3", "-1-5", "0-18446744073709551616"])
    func refusesMalformedRanges(_ header: String) {
        #expect(throws: RegistryError.self) { try ContentRange(parsing: header) }
    }

    @Test func refusesALengthThatDisagrees() {
        #expect(throws: RegistryError.self) { try ContentRange(parsing: "0-9", contentLength: 11) }
    }

    /// Regression: `end - start + 1` overflowed for an end of Int64.max and trapped, taking
    /// the server down with one PATCH.
    @Test func endAtInt64MaxDoesNotOverflow() {
        #expect(throws: RegistryError.self) {
            try ContentRange(parsing: "0-9223372036854775807", contentLength: 10)
        }
    }
}

@Suite struct ByteRangeTests {
    @Test func resolvesRanges() {
        #expect(ByteRange.resolve("bytes=0-9", size: 100) == .partial(0..<10))
        #expect(ByteRange.resolve("bytes=90-", size: 100) == .partial(90..<100))
        #expect(ByteRange.resolve("bytes=-10", size: 100) == .partial(90..<100))
        #expect(ByteRange.resolve("bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange.resolve("bytes=0-1,5-6", size: 100) == .whole)
    }

    /// Regression: `end + 1` overflowed for an end of Int64.max and trapped, taking the
    /// server down with one GET.
    @Test func endAtInt64MaxIsClamped() {
        #expect(ByteRange.resolve("bytes=0-9223372036854775807", size: 100) == .partial(0..<100))
        #expect(ByteRange.resolve("bytes=5-9223372036854775807", size: Int64.max) == .partial(5..<Int64.max))
    }
}
