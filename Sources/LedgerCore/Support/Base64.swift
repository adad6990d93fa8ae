/// RFC 4648 base64, without Foundation, because it sits on the signing and verifying hot path.
public enum Base64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        // The URL-safe alphabet decodes too (DSSE asks verifiers to accept either).
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Appends the standard, padded base64 of `bytes` to `buffer`.
    public static func append(_ bytes: some Collection<UInt8>, to buffer: inout [UInt8]) {
        let fast: Void? = bytes.withContiguousStorageIfAvailable { input in appendContiguous(input, to: &buffer) }
        if fast == nil { appendContiguous(Array(bytes), to: &buffer) }
    }

    private static func appendContiguous(_ input: [UInt8], to buffer: inout [UInt8]) {
        input.withUnsafeBufferPointer { appendContiguous($0, to: &buffer) }
    }

    private static func appendContiguous(_ input: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        let start = buffer.count
        let encodedCount = (input.count + 2) / 3 * 4
        buffer.append(contentsOf: repeatElement(UInt8(ascii: "="), count: encodedCount))
        alphabet.withUnsafeBufferPointer { table in
            buffer.withUnsafeMutableBufferPointer { output in
                var read = 0
                var write = start
                while read + 3 <= input.count {
                    let chunk = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8 | UInt32(input[read + 2])
                    output[write] = table[Int(chunk >> 18 & 0x3f)]
                    output[write + 1] = table[Int(chunk >> 12 & 0x3f)]
                    output[write + 2] = table[Int(chunk >> 6 & 0x3f)]
                    output[write + 3] = table[Int(chunk & 0x3f)]
                    read += 3
                    write += 4
                }
                let rest = input.count - read
                if rest > 0 {
                    let second = rest == 2 ? UInt32(input[read + 1]) : 0
                    let chunk = UInt32(input[read]) << 16 | second << 8
                    output[write] = table[Int(chunk >> 18 & 0x3f)]
                    output[write + 1] = table[Int(chunk >> 12 & 0x3f)]
                    if rest == 2 { output[write + 2] = table[Int(chunk >> 6 & 0x3f)] }
                }
            }
        }
    }

    /// The standard, padded base64 text of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `text` only if it is exactly the standard, padded base64 that ``encode(_:)`` writes
    /// (so re-encoding gives the same bytes back); nil otherwise.
    public static func decodeCanonical(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for symbol in text {
            if symbol == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            // Data after padding, or a URL-safe symbol, is not canonical.
            guard padding == 0, symbol != UInt8(ascii: "-"), symbol != UInt8(ascii: "_") else { return nil }
            let value = decodeTable[Int(symbol)]
            guard value != 0xff else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard padding <= 2, (text.count / 4 * 3 - padding) == out.count,
            accumulator & ((1 << UInt32(bits)) - 1) == 0
        else { return nil }
        return out
    }

    /// Decodes standard or URL-safe base64, padded or not. Returns nil for any other character
    /// or an impossible length.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var symbols = Array(text.utf8)
        while symbols.last == UInt8(ascii: "=") { symbols.removeLast() }
        guard symbols.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in symbols {
            let value = decodeTable[Int(symbol)]
            guard value != 0xff else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero, so that every byte string has one canonical spelling.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
