import LedgerCore
import LedgerPipeline
import LedgerTestSupport
import LedgerTesting
import Synchronization
import Testing

/// The run lock's shared half, with a stand-in for the database's lock: the file lock is taken first, the
/// shared one within the same wait, and both go together.
@Suite("RunLock")
struct RunLockTests {
    /// A shared lock that another holder has until `freeAfter` attempts have been made, counting its releases.
    final class FakeShared: Sendable {
        let attempts = Atomic<Int>(0)
        let releases = Atomic<Int>(0)
        let freeAfter: Int

        init(freeAfter: Int) { self.freeAfter = freeAfter }

        var lock: RunLock.SharedLock {
            RunLock.SharedLock(
                tryTake: { () async throws(LedgerError) -> Bool in
                    self.attempts.add(1, ordering: .relaxed).newValue > self.freeAfter
                },
                holder: { "ledger run, pid 7 on elsewhere" },
                release: { self.releases.add(1, ordering: .relaxed) }
            )
        }
    }

    @Test("a shared lock held elsewhere refuses at once, names its holder, and leaves the file lock free")
    func sharedHeldElsewhere() async throws {
        let path = TestScratch.path("run", suffix: ".lock")
        let shared = FakeShared(freeAfter: .max)
        await #expect {
            _ = try await RunLock.acquire(at: path, purpose: "test", shared: shared.lock)
        } throws: { error in
            let error = error as? LedgerError
            return error?.code == .runLocked && error?.reason.contains("ledger run, pid 7 on elsewhere") == true
        }
        #expect(shared.attempts.load(ordering: .relaxed) == 1)
        // The refused acquisition let go of the file lock: a plain one is granted at once.
        let plain = try await RunLock.acquire(at: path, purpose: "test")
        plain.release()
    }

    @Test("waiting for a shared lock takes it once free; release lets go of it once")
    func sharedFreedWhileWaiting() async throws {
        let path = TestScratch.path("run", suffix: ".lock")
        let shared = FakeShared(freeAfter: 2)
        // A generous wait: the deadline is wall-clock time, and a loaded test process can starve the sleeps between tries.
        let lock = try await RunLock.acquire(at: path, purpose: "test", waitSeconds: 600, shared: shared.lock)
        #expect(shared.attempts.load(ordering: .relaxed) == 3)
        // While held, the file lock refuses another taker of this machine.
        await #expect(throws: LedgerError.self) { _ = try await RunLock.acquire(at: path, purpose: "second") }
        lock.release()
        lock.release()
        #expect(shared.releases.load(ordering: .relaxed) == 1)
        let again = try await RunLock.acquire(at: path, purpose: "test")
        again.release()
    }
}
