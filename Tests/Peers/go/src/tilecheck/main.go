// Command tilecheck checks a transparency log published as C2SP tlog-tiles (https://c2sp.org/tlog-tiles) with Go's
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, sharing no code with ModelLedger:
//
//   - the checkpoint's signature, with note.Open and the log's verifier key (`ledger keys vkey`);
//   - the checkpoint body (origin, size, base64 root, C2SP tlog-checkpoint), parsed here, since x/mod 0.7's
//     tlog.ParseTree wants the Go checksum database's header;
//   - the root, recomputed from the hash tiles by tlog.TileHashReader through a TileReader that maps x/mod's
//     tile/8/L/N paths to C2SP's tile/L/N;
//   - inclusion proofs (tlog.ProveRecord, tlog.CheckRecord) for a sample of entries, read from the entry bundles.
//
// Usage: tilecheck -vkey VKEY [-vkey VKEY...] [-samples N] LOCATION
//
// LOCATION is a published folder or an http(s) URL prefix. It prints one JSON object. Exit codes: 0 verified,
// 1 a verification failure, 2 no verdict (usage, unreadable input).
//
// Build it in GOPATH mode with Debian's golang-go and golang-golang-x-mod-dev, no download:
//
//	GOPATH=/usr/share/gocode:$PWD/Tests/Peers/go GO111MODULE=off GOPROXY=off go build -o tilecheck tilecheck
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	tileHeight         = 8
	tileWidth          = 1 << tileHeight
	maxCheckpointBytes = 64 * 1024
	maxBundleBytes     = tileWidth * (2 + 65535)
)

// verificationError is a verdict: the log is not what it claims.
type verificationError struct{ reason string }

func (e *verificationError) Error() string { return e.reason }

func fail(format string, args ...interface{}) error {
	return &verificationError{fmt.Sprintf(format, args...)}
}

type vkeys []string

func (v *vkeys) String() string     { return strings.Join(*v, ",") }
func (v *vkeys) Set(s string) error { *v = append(*v, s); return nil }

// source reads a published log's resources from a folder or an HTTP prefix, bounded.
type source struct {
	location string
	client   *http.Client
}

func (s *source) read(path string, limit int) ([]byte, error) {
	var body io.Reader
	if strings.HasPrefix(s.location, "http://") || strings.HasPrefix(s.location, "https://") {
		response, err := s.client.Get(strings.TrimSuffix(s.location, "/") + "/" + path)
		if err != nil {
			return nil, err
		}
		defer response.Body.Close()
		if response.StatusCode != http.StatusOK {
			return nil, fail("GET %s: HTTP %d", path, response.StatusCode)
		}
		body = response.Body
	} else {
		file, err := os.Open(filepath.Join(s.location, filepath.FromSlash(path)))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fail("%s is missing", path)
			}
			return nil, err
		}
		defer file.Close()
		body = file
	}
	data, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fail("%s is longer than %d bytes", path, limit)
	}
	return data, nil
}

// tileReader is tlog.TileReader over C2SP paths: x/mod names a tile tile/8/L/N[.p/W] (the height in the path);
// C2SP drops the height, tile/L/N[.p/W], with the same N and W encodings.
type tileReader struct {
	source *source
	reads  int
}

func (r *tileReader) Height() int { return tileHeight }

func c2spPath(t tlog.Tile) (string, error) {
	goPath := t.Path()
	prefix := fmt.Sprintf("tile/%d/", tileHeight)
	if t.H != tileHeight || !strings.HasPrefix(goPath, prefix) {
		return "", fmt.Errorf("unexpected tile %s", goPath)
	}
	return "tile/" + strings.TrimPrefix(goPath, prefix), nil
}

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		path, err := c2spPath(t)
		if err != nil {
			return nil, err
		}
		tile, err := r.source.read(path, t.W*tlog.HashSize)
		if err != nil {
			return nil, err
		}
		if len(tile) != t.W*tlog.HashSize {
			return nil, fail("%s has %d bytes, not %d", path, len(tile), t.W*tlog.HashSize)
		}
		r.reads++
		data[i] = tile
	}
	return data, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// parseCheckpoint parses a C2SP tlog-checkpoint body: origin, decimal size, base64 root, then extension lines.
func parseCheckpoint(text string) (origin string, tree tlog.Tree, err error) {
	if !strings.HasSuffix(text, "\n") {
		return "", tree, fail("the checkpoint body does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return "", tree, fail("the checkpoint body has no origin, size and root")
	}
	if lines[1] != "0" && strings.HasPrefix(lines[1], "0") {
		return "", tree, fail("the checkpoint size has a leading zero")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strings.HasPrefix(lines[1], "+") {
		return "", tree, fail("the checkpoint size %q is not a decimal number", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return "", tree, fail("the checkpoint root is not base64 of 32 bytes")
	}
	for _, extension := range lines[3:] {
		if extension == "" {
			return "", tree, fail("the checkpoint has an empty extension line")
		}
	}
	tree.N = size
	copy(tree.Hash[:], root)
	return lines[0], tree, nil
}

// entry returns entry index of the tree, read from its entry bundle.
func entry(s *source, tree tlog.Tree, index int64) ([]byte, error) {
	bundle := tlog.Tile{H: tileHeight, L: -1, N: index / tileWidth, W: tileWidth}
	if bundle.N == tree.N/tileWidth {
		bundle.W = int(tree.N % tileWidth)
	}
	// x/mod names entry tiles tile/8/data/N; C2SP names bundles tile/entries/N.
	path := "tile/entries/" + strings.TrimPrefix(bundle.Path(), fmt.Sprintf("tile/%d/data/", tileHeight))
	data, err := s.read(path, maxBundleBytes)
	if err != nil {
		return nil, err
	}
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, fail("%s ends inside a length prefix", path)
		}
		length := int(data[0])<<8 | int(data[1])
		data = data[2:]
		if len(data) < length {
			return nil, fail("%s: an entry runs past the end", path)
		}
		entries = append(entries, data[:length])
		data = data[length:]
	}
	if len(entries) != bundle.W {
		return nil, fail("%s holds %d entries, not %d", path, len(entries), bundle.W)
	}
	return entries[index%tileWidth], nil
}

func check(location string, keys []string, samples int64) (map[string]interface{}, error) {
	s := &source{location: location, client: &http.Client{Timeout: 30 * time.Second}}
	var verifiers []note.Verifier
	for _, key := range keys {
		verifier, err := note.NewVerifier(key)
		if err != nil {
			return nil, fmt.Errorf("bad verifier key %q: %v", key, err)
		}
		verifiers = append(verifiers, verifier)
	}
	message, err := s.read("checkpoint", maxCheckpointBytes)
	if err != nil {
		return nil, err
	}
	opened, err := note.Open(message, note.VerifierList(verifiers...))
	if err != nil {
		return nil, fail("the checkpoint's signature does not verify: %v", err)
	}
	origin, tree, err := parseCheckpoint(opened.Text)
	if err != nil {
		return nil, err
	}
	reader := &tileReader{source: s}
	hashes := tlog.TileHashReader(tree, reader)
	root, err := tlog.TreeHash(tree.N, hashes)
	if err != nil {
		return nil, fail("the tiles do not give the checkpoint's root: %v", err)
	}
	if root != tree.Hash {
		return nil, fail("the tiles hash to %v, the checkpoint says %v", root, tree.Hash)
	}
	checked := []int64{}
	if tree.N > 0 {
		seen := map[int64]bool{}
		for i := int64(0); i <= samples; i++ {
			index := i * (tree.N - 1) / samples
			if seen[index] {
				continue
			}
			seen[index] = true
			data, err := entry(s, tree, index)
			if err != nil {
				return nil, err
			}
			proof, err := tlog.ProveRecord(tree.N, index, hashes)
			if err != nil {
				return nil, fail("no inclusion proof for entry %d: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(data)); err != nil {
				return nil, fail("entry %d is not in the tree: %v", index, err)
			}
			checked = append(checked, index)
		}
	}
	signers := []string{}
	for _, signature := range opened.Sigs {
		signers = append(signers, signature.Name)
	}
	return map[string]interface{}{
		"ok": true, "origin": origin, "size": tree.N, "root": tree.Hash.String(), "signedBy": signers,
		"entriesChecked": checked, "tilesRead": reader.reads,
	}, nil
}

func main() {
	var keys vkeys
	flag.Var(&keys, "vkey", "a verifier key of the log, name+hash+base64 (repeatable)")
	samples := flag.Int64("samples", 16, "the number of entries, spread over the log, to prove included")
	flag.Parse()
	output := json.NewEncoder(os.Stdout)
	if flag.NArg() != 1 || len(keys) == 0 || *samples < 1 {
		output.Encode(map[string]interface{}{"ok": false, "reason": "usage: tilecheck -vkey VKEY [-samples N] LOCATION"})
		os.Exit(2)
	}
	result, err := check(flag.Arg(0), keys, *samples)
	if err != nil {
		output.Encode(map[string]interface{}{"ok": false, "reason": err.Error()})
		var verdict *verificationError
		if errors.As(err, &verdict) {
			os.Exit(1)
		}
		os.Exit(2)
	}
	output.Encode(result)
}
