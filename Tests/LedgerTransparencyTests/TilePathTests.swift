import LedgerTransparency
import Testing

@Suite struct TilePathTests {
    /// The examples of C2SP tlog-tiles: index 1234067 is `x001/x234/067`.
    @Test func encodesTheSpecExample() {
        #expect(TilePath.hashes(level: 0, index: 1_234_067).description == "tile/0/x001/x234/067")
        #expect(TilePath.hashes(level: 2, index: 1, width: 17).description == "tile/2/001.p/17")
        #expect(TilePath.entries(index: 0, width: 112).description == "tile/entries/000.p/112")
        #expect(TilePath.entries(index: 1_000).description == "tile/entries/x001/000")
    }

    @Test(arguments: [
        "tile/0/x001/x234/067", "tile/63/000", "tile/entries/x999/x999/999.p/255", "tile/1/x001/000.p/1",
    ])
    func parsesWhatItWrites(_ path: String) throws {
        let parsed = try #require(TilePath(path))
        #expect(parsed.description == path)
    }

    @Test(arguments: [
        "tile/64/000", "tile/01/000", "tile/0/1234", "tile/0/x001/23", "tile/0/001/234", "tile/0/x000/001",
        "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/010", "tile/0/000.p", "tiles/0/000", "tile/0/",
        "tile/0/x-01/000", "tile/entries/+01", "tile/0/x018/x446/x744/x073/x709/x551/616",
    ])
    func refusesAnythingElse(_ path: String) {
        #expect(TilePath(path) == nil)
    }
}
