/// Appends little-endian fields to a byte array.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write<Integer: FixedWidthInteger & UnsignedInteger>(_ value: Integer) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: Double) { write(value.bitPattern) }

    /// A UInt32 byte length followed by the UTF-8 bytes.
    mutating func write(_ text: String) {
        write(UInt32(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    mutating func write(bytes more: [UInt8]) { bytes.append(contentsOf: more) }
}

/// Reads little-endian fields from bytes and never reads past the end: every read that would
/// throws `ml.model` naming the field and its offset.
struct ByteReader {
    private let bytes: [UInt8]
    private let end: Int
    private(set) var offset: Int

    init(_ bytes: [UInt8], from offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    mutating func readUInt8(_ field: String) throws(MLError) -> UInt8 {
        guard remaining >= 1 else { throw truncated(field) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func read<Integer: FixedWidthInteger & UnsignedInteger>(
        _ type: Integer.Type,
        _ field: String
    ) throws(MLError) -> Integer {
        let size = MemoryLayout<Integer>.size
        guard remaining >= size else { throw truncated(field) }
        var value: Integer = 0
        for index in 0..<size {
            value |= Integer(bytes[offset + index]) << (8 * index)
        }
        offset += size
        return value
    }

    mutating func readDouble(_ field: String) throws(MLError) -> Double {
        Double(bitPattern: try read(UInt64.self, field))
    }

    /// A UInt32 byte length followed by that many bytes of valid UTF-8.
    mutating func readString(_ field: String) throws(MLError) -> String {
        let start = offset
        let length = Int(try read(UInt32.self, field))
        guard length <= remaining else { throw truncated(field) }
        let slice = bytes[offset..<(offset + length)]
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw .model("\(field) at byte \(start) is not valid UTF-8")
        }
        offset += length
        return text
    }

    private func truncated(_ field: String) -> MLError {
        .model("the model is truncated: \(field) at byte \(offset) runs past the end")
    }
}

/// CRC-32 as in IEEE 802.3, zlib and PNG (reflected polynomial 0xEDB88320, initial and final XOR
/// 0xFFFFFFFF): `zlib.crc32(data)` in Python gives the same value.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1
        }
        return value
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
