// Interning byte strings to dense ids, for the columns of a snapshot table.

import Foundation

/// Interns byte strings to dense ids by exact bytes, without allocating per lookup.
struct ByteInterner {
    private(set) var storage: [UInt8] = []
    private(set) var ends: [Int] = []
    private var hashes: [UInt64] = []
    private var slots = [Int32](repeating: -1, count: 64)

    var count: Int { ends.count }

    func bytes(_ id: Int) -> ArraySlice<UInt8> {
        storage[(id == 0 ? 0 : ends[id - 1])..<ends[id]]
    }

    /// The id of `key` and whether it is new.
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> (id: Int32, isNew: Bool) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == hash, equals(Int(id), key) { return (id, false) }
            slot = (slot + 1) & mask
        }
        let id = Int32(ends.count)
        storage.append(contentsOf: key)
        ends.append(storage.count)
        hashes.append(hash)
        slots[slot] = id
        if ends.count * 2 > slots.count { grow() }
        return (id, true)
    }

    private func equals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = id == 0 ? 0 : ends[id - 1]
        guard ends[id] - start == key.count else { return false }
        return storage.withUnsafeBufferPointer { stored in
            guard let base = stored.baseAddress, let other = key.baseAddress else { return true }
            return memcmp(base + start, other, key.count) == 0
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for id in hashes.indices {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id)
        }
    }

    /// For each id, its rank when the strings are sorted as bytes (UTF-8 order is code point order).
    func byteOrderRanks() -> [Int] {
        let sorted = (0..<count).sorted { bytes($0).lexicographicallyPrecedes(bytes($1)) }
        var rank = [Int](repeating: 0, count: count)
        for (position, id) in sorted.enumerated() { rank[id] = position }
        return rank
    }
}
