package cancellation

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// codecStrings are the texts the filler picks from: plain, HTML, quotes,
// control characters, invalid UTF-8 and the separators JSON escapes.
var codecStrings = []string{"", "a", "can_0123", "<b>&amp;</b>", `q"uo\te`, "line\nbreak\ttab\r\b\f\x01\x1f", "é 中 😀", "bad\xffutf8\xc3", "sep\u2028\u2029", "x>y"}

// fillValue gives v (settable) a random value of its type: every field,
// element and pointer filled when full, some left zero otherwise.
func fillValue(t *testing.T, rnd *rand.Rand, v reflect.Value, full bool, depth int) {
	t.Helper()
	if !full && rnd.IntN(4) == 0 {
		return // zero
	}
	switch v.Type() {
	case timeType:
		zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("X", -7*3600)}
		tm := time.Date(1990+rnd.IntN(40), time.Month(1+rnd.IntN(12)), 1+rnd.IntN(28), rnd.IntN(24), rnd.IntN(60), rnd.IntN(60), rnd.IntN(3)*rnd.IntN(1e9), zones[rnd.IntN(len(zones))])
		v.Set(reflect.ValueOf(tm))
		return
	case rawMessageType:
		v.SetBytes([]byte(` { "a" : [ 1 , 2.5e3 , "s" ] , "b" : null } `))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(codecStrings[rnd.IntN(len(codecStrings)-1)+1])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rnd.IntN(200)) - 50)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(rnd.IntN(200)) + 1)
	case reflect.Float64:
		fs := []float64{0.5, 1e-7, 3e21, -2.25, 1234567.875, 75.12345678901234, math.SmallestNonzeroFloat64}
		v.SetFloat(fs[rnd.IntN(len(fs))])
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(t, rnd, p.Elem(), full, depth+1)
		v.Set(p)
	case reflect.Slice:
		n := 1 + rnd.IntN(3)
		if depth > 6 {
			n = 1
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillValue(t, rnd, s.Index(i), full, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + rnd.IntN(3) {
			k := reflect.New(v.Type().Key()).Elem()
			fillValue(t, rnd, k, true, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fillValue(t, rnd, e, full, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillValue(t, rnd, v.Field(i), full, depth+1)
			}
		}
	default:
		t.Fatalf("the filler does not know %s (kind %s): teach it, and check the codec knows it too", v.Type(), v.Kind())
	}
}

// TestCodecMatchesEncodingJSON: the planned encoding of a request's stored
// document and of an event is byte for byte json.Marshal's, for values with
// every field filled (so a field added to Request, or to anything it
// holds, is covered the day it is added) and with fields left zero at
// random, and no type of them falls back to encoding/json.
func TestCodecMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, typ := range []reflect.Type{reflect.TypeFor[*requestData](), reflect.TypeFor[*Event]()} {
		if p := planFor(typ); !p.ok {
			t.Fatalf("%s falls back to encoding/json: %s; teach codec.go the type", typ, p.why)
		}
	}
	rnd := rand.New(rand.NewPCG(8, 8))
	check := func(name string, v any) {
		t.Helper()
		want, werr := json.Marshal(v)
		got, gerr := marshalJSON(v)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("%s: codec gave\n%s (%v)\nencoding/json gives\n%s (%v)", name, got, gerr, want, werr)
		}
		// And directly through the plan and the generated codec: no
		// silent fallback hides a difference.
		if werr == nil {
			planned, err := planFor(reflect.TypeOf(v)).f(nil, reflect.ValueOf(v))
			if err != nil || !bytes.Equal(planned, want) {
				t.Fatalf("%s: the plan gave\n%s (%v)\nencoding/json gives\n%s", name, planned, err, want)
			}
			if generatedFile.codec.enc == nil {
				t.Fatal("no generated codec: run go generate")
			}
			gen, ok, err := generatedFile.codec.enc(nil, v)
			if !ok || err != nil || !bytes.Equal(gen, want) {
				t.Fatalf("%s: the generated codec gave\n%s (%v, %v)\nencoding/json gives\n%s", name, gen, ok, err, want)
			}
		}
	}
	check("zero request", &requestData{})
	check("zero event", &Event{})
	for i := range 300 {
		full := i%3 == 0
		var d requestData
		fillValue(t, rnd, reflect.ValueOf(&d).Elem(), full, 0)
		check("request", &d)
		var e Event
		fillValue(t, rnd, reflect.ValueOf(&e).Elem(), full, 0)
		check("event", &e)
	}
}

// TestCodecFallsBackWhereEncodingJSONDiffers: values the plan does not
// encode itself (a year past 9999, a NaN, raw JSON with HTML characters)
// give encoding/json's result or error.
func TestCodecFallsBackWhereEncodingJSONDiffers(t *testing.T) {
	t.Parallel()
	late := &Event{Seq: 1, At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := marshalJSON(late); err == nil {
		t.Fatal("a year past 9999 encoded; encoding/json refuses it")
	}
	nan := &requestData{Documents: []Document{{Facts: DocumentFacts{Colourfulness: math.NaN()}}}}
	if _, err := marshalJSON(nan); err == nil {
		t.Fatal("a NaN encoded; encoding/json refuses it")
	}
	var d requestData
	fillValue(t, rand.New(rand.NewPCG(1, 2)), reflect.ValueOf(&d).Elem(), true, 0)
	for i := range d.Effects {
		if d.Effects[i].Event != nil {
			d.Effects[i].Event.Data = json.RawMessage(`{"a":"<&>"}`)
		}
	}
	want, _ := json.Marshal(&d)
	if got, err := marshalJSON(&d); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("raw JSON with HTML characters: got\n%s (%v)\nwant\n%s", got, err, want)
	}
}

// decodeBoth decodes data into a fresh T with the planned codec and with
// json.Unmarshal, and fails unless both agree (value and error). planned
// reports whether the plan decoded it without falling back.
func decodeBoth[T any](t *testing.T, data []byte) (planned bool) {
	t.Helper()
	var got, want T
	gerr := unmarshalJSON(data, &got)
	werr := json.Unmarshal(data, &want)
	if (gerr == nil) != (werr == nil) || (werr == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("decoding\n%s\ncodec gave %+v (%v)\nencoding/json gives %+v (%v)", data, got, gerr, want, werr)
	}
	// From a string, without a copy: the same.
	var fromString T
	serr := unmarshalJSONString(string(data), &fromString)
	if (serr == nil) != (werr == nil) || (werr == nil && !reflect.DeepEqual(fromString, want)) {
		t.Fatalf("decoding\n%s\nfrom a string the codec gave %+v (%v)\nencoding/json gives %+v (%v)", data, fromString, serr, want, werr)
	}
	// The generated codec, directly: where it decodes the document
	// itself, its value is encoding/json's.
	generatedOK := true
	var gen T
	d := newDecoder(data)
	d.ws()
	if dec := generatedFile.codec.dec; dec != nil { // without codec_gen.go, TestGeneratedCodecIsCurrent fails
		if ok, err := dec(&d, &gen); ok {
			if d.ws(); err == nil && d.i == len(data) {
				if werr != nil || !reflect.DeepEqual(gen, want) {
					t.Fatalf("decoding\n%s\nthe generated codec gave %+v\nencoding/json gives %+v (%v)", data, gen, want, werr)
				}
			} else {
				generatedOK = false
			}
		}
	}
	var direct T
	d = newDecoder(data)
	d.ws()
	if err := decPlanFor(reflect.TypeFor[T]()).f(&d, reflect.ValueOf(&direct).Elem()); err != nil {
		return false
	}
	d.ws()
	return d.i == len(data) && generatedOK
}

// TestCodecDecodesAsEncodingJSON: the planned decoding of stored requests
// and events gives what json.Unmarshal gives, without falling back, for
// documents with every field filled and with fields left out at random;
// and for documents it does not decode itself (unknown, repeated or
// differently cased keys, nulls, bad numbers, escapes, damage) it gives
// json.Unmarshal's result or error.
func TestCodecDecodesAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, typ := range []reflect.Type{reflect.TypeFor[requestData](), reflect.TypeFor[Event]()} {
		if p := decPlanFor(typ); !p.ok {
			t.Fatalf("%s falls back to encoding/json: %s; teach codec.go the type", typ, p.why)
		}
	}
	rnd := rand.New(rand.NewPCG(9, 9))
	for i := range 300 {
		full := i%3 == 0
		var d requestData
		fillValue(t, rnd, reflect.ValueOf(&d).Elem(), full, 0)
		b, err := json.Marshal(&d)
		if err != nil {
			t.Fatal(err)
		}
		if !decodeBoth[requestData](t, b) {
			t.Fatalf("the plan fell back on a document encoding/json wrote:\n%s", b)
		}
		var e Event
		fillValue(t, rnd, reflect.ValueOf(&e).Elem(), full, 0)
		if b, err = json.Marshal(&e); err != nil {
			t.Fatal(err)
		}
		if !decodeBoth[Event](t, b) {
			t.Fatalf("the plan fell back on an event encoding/json wrote:\n%s", b)
		}
	}
	for _, doc := range []string{
		`{"id":"a","version":1}`,
		` { "id" : "a\u00e9\n\"" , "version" : -0 , "history" : [ ] } `,
		`{"id":"a","ID":"b"}`,                    // a key matched without case
		`{"id":"a","id":"b"}`,                    // repeated
		`{"head":{"seq":1},"head":{"hash":"x"}}`, // repeated: encoding/json merges
		`{"id":"a","unknown":{"x":[1]}}`,         // unknown: ignored
		`{"id":null,"version":null,"head":null,"eligibility":null,"otp":{"hash":null}}`,
		`{"version":1.5}`, `{"version":1e2}`, `{"version":01}`, `{"version":+1}`, `{"version":99999999999999999999}`,
		`{"expire_after":"1s"}`, `{"identity_verified":"true"}`, `{"id":"\ud83d\ude00"}`, `{"id":"\ud800"}`,
		`{"id":"bad` + "\xff" + `"}`, `{"id":"tab` + "\t" + `"}`, `{"created_at":"2025-13-01T00:00:00Z"}`, `{"created_at":12}`,
		`{"effects":[{"event":{"data":null}}]}`, `{"effects":[{"event":{"data":{"a": [1, 2]}}}]}`, `{"effects":[{"notification":{"Data":{"k":"v","k":"w"}}}]}`,
		`{"id":"a"} x`, `{"id":"a",}`, `{"id":"a"`, `[]`, `null`, ``, `{"documents":[{"facts":{"colourfulness":1.5e-7}}]}`,
	} {
		decodeBoth[requestData](t, []byte(doc))
	}
}

// TestFingerprintWithoutItemsIsHashedOncePerRule: the fingerprint of a
// finding without items, memoized by rule name, is the hash of the name
// as the consents on record bind it, on the first call and the next.
func TestFingerprintWithoutItemsIsHashedOncePerRule(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"orders", "a rule \"quoted\"", "rule-" + t.Name()} {
		want := hashFingerprint(name, nil)
		if got := fingerprint(name, nil); got != want {
			t.Fatalf("%q first: %s, want %s", name, got, want)
		}
		if got := fingerprint(name, []Item{}); got != want {
			t.Fatalf("%q again: %s, want %s", name, got, want)
		}
	}
	if fingerprint("orders", nil) == fingerprint("orders", []Item{{Kind: "order", Ref: "o-1"}}) {
		t.Fatal("a finding with items has the fingerprint of one without")
	}
}

// TestStoredDocumentWrittenBeforeTheCodecReadsAsEncodingJSONReadsIt: the
// document of a request at the end of a whole flow, as the code before
// codec.go wrote it with encoding/json (testdata/approved-request.json),
// decodes without falling back to what json.Unmarshal gives, and encodes
// again to what json.Marshal gives (the same bytes, but for fields added
// since that encoding/json writes too): rows written before read as
// ever, and older code reads what is written now.
func TestStoredDocumentWrittenBeforeTheCodecReadsAsEncodingJSONReadsIt(t *testing.T) {
	t.Parallel()
	old := approvedDoc(t)
	if !decodeBoth[requestData](t, old) {
		t.Fatal("the plan fell back on a document the older code wrote")
	}
	var r Request
	if err := r.UnmarshalBinary(old); err != nil {
		t.Fatal(err)
	}
	again, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d := r.d
	d.Head, d.History = r.head(), nil
	want, err := json.Marshal(&d)
	if err != nil || !bytes.Equal(again, want) {
		t.Fatalf("re-encoded:\n%s\nencoding/json (%v):\n%s", again, err, want)
	}
}

// TestWordTestsAreByteTestsEightTimes: plainWord accepts eight bytes
// exactly when plainByte accepts each, and safeWord exactly when
// safeByte does, for every byte value at every position, and for random
// words.
func TestWordTestsAreByteTestsEightTimes(t *testing.T) {
	t.Parallel()
	check := func(w [8]byte) {
		plain, safe := true, true
		for _, c := range w {
			plain = plain && plainByte[c]
			safe = safe && safeByte(c)
		}
		word := binary.LittleEndian.Uint64(w[:])
		if got := plainWord(word); got != plain {
			t.Fatalf("plainWord(%q) = %v, want %v", w[:], got, plain)
		}
		if got := safeWord(word); got != safe {
			t.Fatalf("safeWord(%q) = %v, want %v", w[:], got, safe)
		}
		if got := stringWord(string(w[:]), 0); got != word {
			t.Fatalf("stringWord(%q) = %#x, want %#x", w[:], got, word)
		}
	}
	for c := range 256 {
		for at := range 8 {
			w := [8]byte{'a', 'Z', '0', ' ', '~', '!', '#', '}'}
			w[at] = byte(c)
			check(w)
			for d := range 256 { // two bytes: a borrow from one must not hide the other
				w2 := w
				w2[(at+1)%8] = byte(d)
				check(w2)
			}
		}
	}
	rnd := rand.New(rand.NewPCG(8, 8))
	for range 100_000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(0x1e + rnd.IntN(0x64)) // around the bounds: 0x1e..0x81
		}
		check(w)
	}
}

// TestAppendJSONStringIsEncodingJSON: appendJSONString writes what
// encoding/json writes for a string, HTML escapes and all, for strings of
// every length around the eight-byte words, with a byte that needs
// escaping (or non-ASCII text, or invalid UTF-8) at every position.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	t.Parallel()
	check := func(s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("x"), s); string(got[1:]) != string(want) || got[0] != 'x' {
			t.Fatalf("appendJSONString(%q) = %s, want x%s", s, got, want)
		}
	}
	specials := []string{"\x00", "\x1f", "\"", "\\", "<", ">", "&", "\x7f", "é", "\u2028", "\u2029", "\xff", "\xe2\x80", "😀", "\n"}
	for n := range 26 {
		plain := strings.Repeat("abcdefgh", 4)[:n]
		check(plain)
		for at := range n + 1 {
			for _, sp := range specials {
				check(plain[:at] + sp + plain[at:])
			}
		}
	}
	rnd := rand.New(rand.NewPCG(5, 5))
	for range 20_000 {
		b := make([]byte, rnd.IntN(40))
		for i := range b {
			if rnd.IntN(4) == 0 {
				b[i] = byte(rnd.IntN(256))
			} else {
				b[i] = byte(0x20 + rnd.IntN(0x5f))
			}
		}
		check(string(b))
	}
	for _, s := range codecStrings {
		check(s)
	}
}

// TestDecodedStringsAreCopies: the strings decoded from a document are
// substrings of one copy of it, never of the caller's bytes, which it may
// change or reuse afterwards.
func TestDecodedStringsAreCopies(t *testing.T) {
	t.Parallel()
	raw := approvedDoc(t)
	var want requestData
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	var got Request
	if err := got.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 'x'
	}
	want.History, want.Head = []Event{*want.Head}, nil
	if !reflect.DeepEqual(got.d, want) {
		t.Fatalf("the decoded request changed with the bytes it was decoded from:\n%+v\nwant\n%+v", got.d, want)
	}
}

// TestDecodedSlicesAreExactAndFresh: each decoded slice has the length
// and capacity of its elements (they are copied out of a scratch slice)
// and holds nothing of an earlier decoding: a longer slice, a decoding
// that failed half way (and fell back to encoding/json) and a slice nested
// in an element of the same type all leave the next one as
// encoding/json decodes it.
func TestDecodedSlicesAreExactAndFresh(t *testing.T) {
	t.Parallel()
	type node struct {
		Name string   `json:"name,omitempty"`
		P    *int     `json:"p,omitempty"`
		Kids []node   `json:"kids,omitempty"`
		Tags []string `json:"tags,omitempty"`
	}
	for _, doc := range []string{
		`{"kids":[{"name":"a","p":1,"tags":["x","y","z","w","v"]},{"name":"b","kids":[{"name":"c","p":2},{"name":"d"}]},{"p":3},{"name":"e"},{"name":"f","tags":["q"]}]}`,
		`{"kids":[{"name":"g"},{"tags":["r"]}]}`,
		`{"kids":[{"name":"h","p":4},{"name":"i","p":5},{"name":"j","unknown":1},{"name":"k"}]}`, // falls back at j
		`{"kids":[{},{"kids":[]},{"kids":[{"tags":[]}]}]}`,
		`{"kids":[{"name":"l"}]}`,
	} {
		decodeBoth[node](t, []byte(doc))
		var got node
		if err := unmarshalJSON([]byte(doc), &got); err != nil {
			t.Fatal(err)
		}
		var walk func(n node)
		walk = func(n node) {
			if cap(n.Kids) != len(n.Kids) || cap(n.Tags) != len(n.Tags) {
				t.Fatalf("%s: slices of length %d and %d have capacity %d and %d", doc, len(n.Kids), len(n.Tags), cap(n.Kids), cap(n.Tags))
			}
			for _, k := range n.Kids {
				walk(k)
			}
		}
		walk(got)
	}
	raw := approvedDoc(t)
	var d requestData
	if err := unmarshalJSON(raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Effects) == 0 || cap(d.Effects) != len(d.Effects) || cap(d.Eligibility.Findings) != len(d.Eligibility.Findings) {
		t.Fatalf("effects %d/%d, findings %d/%d: want their capacity to be their length", len(d.Effects), cap(d.Effects), len(d.Eligibility.Findings), cap(d.Eligibility.Findings))
	}
}

// TestDecodedMapMembersStartZero: the members of a map are decoded one
// after the other into the same element, zeroed between them, so that no
// field of one member shows in the next that leaves it out.
func TestDecodedMapMembersStartZero(t *testing.T) {
	t.Parallel()
	type member struct {
		A int               `json:"a,omitempty"`
		B *string           `json:"b,omitempty"`
		C []string          `json:"c,omitempty"`
		D map[string]string `json:"d,omitempty"`
	}
	for _, c := range []struct {
		doc     string
		planned bool
	}{
		{`{"x":{"a":1,"b":"s","c":["q"],"d":{"k":"v"}},"y":{},"z":{"d":{}}}`, true},
		{`{"x":{"a":1},"y":null,"z":{"b":"t"}}`, true},
		{`{"x":{"a":1},"x":{"b":"t"}}`, false}, // repeated: left to encoding/json
	} {
		if got := decodeBoth[map[string]member](t, []byte(c.doc)); got != c.planned {
			t.Fatalf("%s: planned %v, want %v", c.doc, got, c.planned)
		}
	}
}

// FuzzCodecDecodesAsEncodingJSON: whatever the bytes, the planned
// decoding of a stored request and of an event gives json.Unmarshal's
// value, or fails where it fails, and never panics.
func FuzzCodecDecodesAsEncodingJSON(f *testing.F) {
	raw := approvedDoc(f)
	f.Add(raw)
	f.Add([]byte(`{"id":"a\u00e9\n\"","effects":[{"notification":{"Data":{"k":"v"}}},{}],"reached":{"started":"2025-03-03T09:00:00Z"}}`))
	f.Add([]byte(`{"head":{"seq":1,"data":{"a":"b\\c"}},"history":[{"seq":1},{"seq":2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeBoth[requestData](t, data)
		decodeBoth[Event](t, data)
	})
}

// safeByte is safeWord's test for one byte: the oracle the word test is
// checked against.
func safeByte(c byte) bool { return plainByte[c] && c != '<' && c != '>' && c != '&' }

// approvedDoc returns the stored document of a request at the end of a
// whole flow, as the code before codec.go wrote it with encoding/json:
// testdata/approved-request.json, the caller's own copy.
func approvedDoc(tb testing.TB) []byte {
	tb.Helper()
	raw, err := os.ReadFile("testdata/approved-request.json")
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}
