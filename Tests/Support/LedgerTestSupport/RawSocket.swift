#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP socket on loopback driven byte by byte, for tests that play a slow, idle or flooding HTTP client, or
/// hold a port. Non-blocking after connecting; never raises SIGPIPE. Not thread-safe: one owner at a time.
public final class RawSocket {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public private(set) var descriptor: Int32
    /// What ``receiveKeeping()`` has read so far.
    public private(set) var receivedSoFar: [UInt8] = []

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { hangUp() }

    /// Connects to `127.0.0.1:port`.
    public static func connected(toPort port: Int) throws -> RawSocket {
        let socket = try RawSocket(descriptor: make())
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        _ = fcntl(socket.descriptor, F_SETFL, fcntl(socket.descriptor, F_GETFL) | O_NONBLOCK)
        return socket
    }

    /// A socket listening on `127.0.0.1` on a free port, and that port: it holds the port until closed.
    public static func listener() throws -> (socket: RawSocket, port: Int) {
        let socket = try RawSocket(descriptor: make())
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket.descriptor, pointer, length) == 0 && listen(socket.descriptor, 8) == 0
                    && getsockname(socket.descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "listen on a free port: errno \(errno)") }
        return (socket, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Sends `bytes`; false when the connection is gone (or the send buffer is full, which these tests never fill).
    @discardableResult
    public func transmit(_ bytes: [UInt8]) -> Bool {
        guard descriptor >= 0 else { return false }
        let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return sent == bytes.count
    }

    /// Sends `text` as UTF-8.
    @discardableResult
    public func transmit(_ text: String) -> Bool { transmit(Array(text.utf8)) }

    /// Reads what has arrived without waiting: the bytes, and whether the peer closed (end of stream or reset).
    public func receive() -> (bytes: [UInt8], closed: Bool) {
        guard descriptor >= 0 else { return ([], true) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[..<count]
                continue
            }
            if count == 0 { return (received, true) }
            return (received, !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        }
    }

    /// Reads what has arrived into ``receivedSoFar``; true once the peer closed.
    public func receiveKeeping() -> Bool {
        let (bytes, closed) = receive()
        receivedSoFar += bytes
        return closed
    }

    /// Waits up to `milliseconds` for something to read (or the close); true if there is.
    public func waitReadable(milliseconds: Int32) -> Bool {
        guard descriptor >= 0 else { return true }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Closes the socket; later calls do nothing.
    public func hangUp() {
        guard descriptor >= 0 else { return }
        _ = close(descriptor)
        descriptor = -1
    }

    private static func make() throws -> Int32 {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        return descriptor
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
