package cancellation

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"
)

// The storage encoding of requests and events is the JSON that
// encoding/json gives them: rows written by older code read as ever, and
// older code reads what this code writes. encoding/json works it out by
// reflection on every call, with a method call, an allocation and a
// validation pass for each time.Time; a request is encoded on every
// write, so codec.go encodes the same bytes from a plan built once per
// type. The plan is built by reflection too, so a field another change
// adds is encoded like the others, never dropped; a type the plan does
// not know (a custom MarshalJSON, an interface, a float32...) makes the
// whole type fall back to encoding/json, and so does a value it cannot
// encode byte for byte the same way (a NaN, a year past 9999, raw JSON
// with HTML characters), so that the result or the error is
// encoding/json's. TestCodecMatchesEncodingJSON fills every field by
// reflection and requires the same bytes, and no fallback, for Request
// and Event.
//
// For the stored request and event themselves, the plan is the fallback
// of a faster codec generated from the same types (codecgen.go,
// codec_gen.go), used only while the types have the shape it was
// generated from; both share the primitives below, and times in UTC are
// written and read by hand (codec_time.go).

// errFallback makes an encoding fall back to encoding/json.
var errFallback = errors.New("cancellation: fall back to encoding/json")

// encFunc appends the JSON of v to b.
type encFunc func(b []byte, v reflect.Value) ([]byte, error)

// plan is a codec's plan for one type: ok is false when the type falls
// back to encoding/json, and why says why.
type plan[F any] struct {
	f   F
	ok  bool
	why string
}

// planOf returns the plan of t in cache, compiled once.
func planOf[F any](cache *sync.Map, t reflect.Type, compile func(reflect.Type, map[reflect.Type]*F) (F, error)) *plan[F] {
	if p, ok := cache.Load(t); ok {
		return p.(*plan[F])
	}
	f, err := compile(t, map[reflect.Type]*F{})
	p := &plan[F]{f: f, ok: err == nil}
	if err != nil {
		p.why = err.Error()
	}
	actual, _ := cache.LoadOrStore(t, p)
	return actual.(*plan[F])
}

var (
	encPlans sync.Map // reflect.Type -> *plan[encFunc]

	timeType       = reflect.TypeFor[time.Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	jsonMarshaler  = reflect.TypeFor[json.Marshaler]()
	textMarshaler  = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroer       = reflect.TypeFor[interface{ IsZero() bool }]()

	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// planFor returns the encoding plan of t, built once.
func planFor(t reflect.Type) *plan[encFunc] { return planOf(&encPlans, t, compileEnc) }

// marshalJSON returns what json.Marshal(v) returns, faster for the types
// the plan knows. v is a pointer to a struct.
func marshalJSON(v any) ([]byte, error) {
	buf := encBuffers.Get().(*[]byte)
	b, err := appendJSON((*buf)[:0], v)
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if cap(b) <= 64<<10 {
		*buf = b[:0]
		encBuffers.Put(buf)
	}
	return out, err
}

// encBuffers are scratch buffers for marshalJSON, which returns a copy of
// exactly the encoding's size.
var encBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// compileEnc builds the encoder of t. seen breaks recursive types.
func compileEnc(t reflect.Type, seen map[reflect.Type]*encFunc) (encFunc, error) {
	if f, ok := seen[t]; ok {
		return func(b []byte, v reflect.Value) ([]byte, error) { return (*f)(b, v) }, nil
	}
	switch t {
	case timeType:
		return encTime, nil
	case rawMessageType:
		return encRaw, nil
	}
	if t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		t.Kind() != reflect.Pointer && (reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)) {
		return nil, errors.New(t.String() + " has its own marshaller")
	}
	switch t.Kind() {
	case reflect.String:
		return func(b []byte, v reflect.Value) ([]byte, error) { return appendJSONString(b, v.String()), nil }, nil
	case reflect.Bool:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendBool(b, v.Bool()), nil }, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendInt(b, v.Int(), 10), nil }, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendUint(b, v.Uint(), 10), nil }, nil
	case reflect.Float64:
		return encFloat, nil
	case reflect.Pointer:
		var f encFunc
		seen[t] = &f
		elem, err := compileEnc(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		f = nullIfNil(func(b []byte, v reflect.Value) ([]byte, error) { return elem(b, v.Elem()) })
		return f, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if pt := reflect.PointerTo(t.Elem()); t.Elem().Implements(jsonMarshaler) || pt.Implements(jsonMarshaler) || t.Elem().Implements(textMarshaler) || pt.Implements(textMarshaler) {
				return nil, errors.New(t.String() + " has bytes with their own marshaller")
			}
			// Bytes are a base64 string.
			return nullIfNil(func(b []byte, v reflect.Value) ([]byte, error) {
				b = append(b, '"')
				b = base64.StdEncoding.AppendEncode(b, v.Bytes())
				return append(b, '"'), nil
			}), nil
		}
		elem, err := compileEnc(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		return nullIfNil(func(b []byte, v reflect.Value) ([]byte, error) {
			b = append(b, '[')
			var err error
			for i := range v.Len() {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = elem(b, v.Index(i)); err != nil {
					return nil, err
				}
			}
			return append(b, ']'), nil
		}), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String || t.Key().Implements(textMarshaler) {
			return nil, errors.New(t.String() + " is a map without string keys")
		}
		elem, err := compileEnc(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		return nullIfNil(func(b []byte, v reflect.Value) ([]byte, error) {
			type kv struct {
				k string
				v reflect.Value
			}
			kvs := make([]kv, 0, v.Len())
			for it := v.MapRange(); it.Next(); {
				kvs = append(kvs, kv{it.Key().String(), it.Value()})
			}
			slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
			b = append(b, '{')
			var err error
			for i, e := range kvs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, e.k)
				b = append(b, ':')
				if b, err = elem(b, e.v); err != nil {
					return nil, err
				}
			}
			return append(b, '}'), nil
		}), nil
	case reflect.Struct:
		var f encFunc
		seen[t] = &f
		fields, err := structFields(t, seen)
		if err != nil {
			return nil, err
		}
		f = func(b []byte, v reflect.Value) ([]byte, error) {
			b = append(b, '{')
			first := true
			var err error
			for i := range fields {
				fd := &fields[i]
				fv := v.Field(fd.index)
				if fd.omit != nil && fd.omit(fv) {
					continue
				}
				if first {
					b = append(b, fd.name[1:]...)
					first = false
				} else {
					b = append(b, fd.name...)
				}
				if b, err = fd.enc(b, fv); err != nil {
					return nil, err
				}
			}
			return append(b, '}'), nil
		}
		return f, nil
	}
	return nil, errors.New(t.String() + " is of kind " + t.Kind().String())
}

// nullIfNil encodes a nil pointer, slice or map as null, others with f.
func nullIfNil(f encFunc) encFunc {
	return func(b []byte, v reflect.Value) ([]byte, error) {
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		return f(b, v)
	}
}

// encField is one field of a struct plan.
type encField struct {
	index int
	name  []byte // `,"name":`
	omit  func(reflect.Value) bool
	enc   encFunc
}

// structFields plans t's fields as encoding/json names and omits them.
func structFields(t reflect.Type, seen map[reflect.Type]*encFunc) ([]encField, error) {
	var out []encField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if sf.Anonymous {
			return nil, errors.New(t.String() + " embeds " + sf.Name)
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		enc, err := compileEnc(sf.Type, seen)
		if err != nil {
			return nil, err
		}
		fd := encField{index: i, name: append([]byte{','}, appendJSONString(nil, name)...), enc: enc}
		fd.name = append(fd.name, ':')
		for opts != "" {
			var o string
			o, opts, _ = strings.Cut(opts, ",")
			switch o {
			case "omitempty":
				prev := fd.omit
				fd.omit = orOmit(prev, isEmptyJSON)
			case "omitzero":
				z, err := zeroFunc(sf.Type)
				if err != nil {
					return nil, err
				}
				fd.omit = orOmit(fd.omit, z)
			case "":
			default:
				return nil, errors.New(t.String() + "." + sf.Name + " has the json option " + o)
			}
		}
		out = append(out, fd)
	}
	return out, nil
}

func orOmit(a, b func(reflect.Value) bool) func(reflect.Value) bool {
	if a == nil {
		return b
	}
	return func(v reflect.Value) bool { return a(v) || b(v) }
}

// isEmptyJSON is encoding/json's omitempty test.
func isEmptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// zeroFunc is encoding/json's omitzero test for t: its IsZero method, or
// the zero value. Only time.Time's method is known here.
func zeroFunc(t reflect.Type) (func(reflect.Value) bool, error) {
	if t == timeType {
		return func(v reflect.Value) bool { return timeOf(v).IsZero() }, nil
	}
	if t.Implements(isZeroer) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(isZeroer) {
		return nil, errors.New(t.String() + " has its own IsZero")
	}
	return reflect.Value.IsZero, nil
}

// encTime is time.Time's MarshalJSON, or a fallback where it would fail.
func encTime(b []byte, v reflect.Value) ([]byte, error) { return appendTime(b, timeOf(v)) }

// appendTimeFormat is appendTime for any location, by the time package.
func appendTimeFormat(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, errFallback
	}
	if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		return nil, errFallback
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// timeOf returns the time.Time v holds, without a copy to the heap when
// v is addressable.
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *v.Addr().Interface().(*time.Time)
	}
	return v.Interface().(time.Time)
}

// encRaw is json.RawMessage as encoding/json writes it: compacted, with
// HTML characters escaped (here: a fallback).
func encRaw(b []byte, v reflect.Value) ([]byte, error) { return appendRaw(b, v.Bytes()) }

// appendRaw appends raw JSON as encRaw does.
func appendRaw(b, raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return append(b, "null"...), nil
	}
	if bytes.ContainsAny(raw, "<>&\u2028\u2029") {
		return nil, errFallback
	}
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, raw); err != nil {
		return nil, errFallback
	}
	return buf.Bytes(), nil
}

// encFloat is encoding/json's float64 encoding.
func encFloat(b []byte, v reflect.Value) ([]byte, error) { return appendFloat(b, v.Float()) }

// appendFloat appends f as encoding/json writes a float64.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, errFallback
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none of them needs escaping.
		for i+8 <= len(s) && safeWord(stringWord(s, i)) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Decoding mirrors encoding: unmarshalJSON gives what json.Unmarshal
// gives, from a plan built once per type, for the documents the encoding
// writes; anything else (an unknown or repeated key, a key matched only
// without case, a null raw message, a number out of range, a syntax
// error...) starts over with json.Unmarshal, whose result or error it
// then is.

// decFunc decodes the value at d into v, which is settable and zero.
type decFunc func(d *decoder, v reflect.Value) error

var decPlans sync.Map // reflect.Type -> *plan[decFunc]

// decPlanFor returns the decoding plan of t, built once.
func decPlanFor(t reflect.Type) *plan[decFunc] { return planOf(&decPlans, t, compileDec) }

// unmarshalJSON is json.Unmarshal(data, v) for v a pointer to a zero
// value.
func unmarshalJSON(data []byte, v any) error {
	return decodeJSON(newDecoder(data), v, func() []byte { return data })
}

// unmarshalJSONString is unmarshalJSON of s's bytes, without copying
// them: the strings decoded without escapes are substrings of s.
func unmarshalJSONString(s string, v any) error {
	return decodeJSON(newStringDecoder(s), v, func() []byte { return []byte(s) })
}

// decodeJSON decodes d's document into v, a pointer to a zero value, by
// the generated codec or the plan, or else by encoding/json from the
// bytes data returns.
func decodeJSON(d decoder, v any, data func() []byte) error {
	start := d
	if g := generated.Load(); g != nil {
		d.ws()
		ok, err := g.dec(&d, v)
		if ok {
			if d.ws(); err == nil && d.i == len(d.b) {
				return nil
			}
			reflect.ValueOf(v).Elem().SetZero()
			return json.Unmarshal(data(), v)
		}
		d = start
	}
	rv := reflect.ValueOf(v)
	if p := decPlanFor(rv.Type().Elem()); p.ok {
		d.ws()
		if err := p.f(&d, rv.Elem()); err == nil {
			if d.ws(); d.i == len(d.b) {
				return nil
			}
		}
		rv.Elem().SetZero()
	}
	return json.Unmarshal(data(), v)
}

// decoder reads one JSON document.
type decoder struct {
	b []byte
	// s is b as a string, copied once: the strings decoded without
	// escapes are substrings of it, not an allocation each. A decoded
	// value keeps the whole document alive while it keeps one of them;
	// the document is a few kilobytes, about what its strings take.
	s   string
	i   int
	buf []byte // scratch for strings with escapes
}

// newDecoder returns a decoder of data, which it does not keep: the
// strings it decodes are copies.
func newDecoder(data []byte) decoder { return decoder{b: data, s: string(data)} }

// newStringDecoder returns a decoder of s that reads s's own bytes: b is
// a view of them, which the decoder only reads (strings are immutable).
func newStringDecoder(s string) decoder {
	return decoder{b: unsafe.Slice(unsafe.StringData(s), len(s)), s: s}
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// null consumes a null literal if one is next.
func (d *decoder) null() bool {
	if d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// next consumes c, after white space.
func (d *decoder) next(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c { // documents are written without white space
		d.i++
		return true
	}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string as encoding/json decodes it. The bytes returned are
// d.b's own when the string has no escapes and no non-ASCII text, d.buf
// (reused by the next string) otherwise: copy them to keep them.
func (d *decoder) str() (s []byte, err error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, errFallback
	}
	d.i++
	start := d.i
	// Eight bytes at a time while none of them ends the plain run (in
	// locals: the compiler keeps them in registers).
	b, i := d.b, d.i
	for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
		i += 8
	}
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	d.i = i
	if d.i < len(d.b) && d.b[d.i] == '"' {
		s = d.b[start:d.i]
		d.i++
		return s, nil
	}
	return d.slowStr(start)
}

// string reads a string as str does, returned as a Go string: a
// substring of d.s when the string has no escapes, a copy otherwise. Every
// escape decodes to fewer bytes than it takes, and text without escapes
// decodes to itself (invalid UTF-8 falls back), so a string that decodes
// to as many bytes as its quotes hold is those bytes.
func (d *decoder) string() (string, error) {
	start := d.i + 1
	b, err := d.str()
	if err != nil {
		return "", err
	}
	if end := d.i - 1; end-start == len(b) {
		return d.s[start:end], nil
	}
	return string(b), nil
}

// plainByte marks the bytes a string holds as they are: printable ASCII
// but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainWord reports whether the eight bytes of w are all plainByte: none
// below 0x20, none from 0x80, no quote and no backslash (the SWAR tests
// of "Bit Twiddling Hacks": a byte below n, a zero byte).
func plainWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := func(x, n uint64) uint64 { return (x - ones*n) & ^x & highs }
	return (w&highs | below(w, 0x20) | below(w^(ones*'"'), 1) | below(w^(ones*'\\'), 1)) == 0
}

// safeWord reports whether the eight bytes of w are all ASCII that
// appendJSONString writes as it is: plainWord's bytes but '<', '>' and
// '&', which it escapes as encoding/json does.
func safeWord(w uint64) bool {
	// One expression, without closures, so that it is inlined into the
	// loop. With no byte of x from 0x80 (w itself rules those out),
	// (x - n*0x01...) &^ x has a high bit set exactly when a byte of x is
	// below n; x is w, or w xor a byte repeated (zero where w holds it).
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs, lt, gt, amp := w^(ones*'"'), w^(ones*'\\'), w^(ones*'<'), w^(ones*'>'), w^(ones*'&')
	return (w|(w-ones*0x20)&^w|(q-ones)&^q|(bs-ones)&^bs|(lt-ones)&^lt|(gt-ones)&^gt|(amp-ones)&^amp)&highs == 0
}

// stringWord returns the eight bytes of s from i as a little-endian
// word, as binary.LittleEndian.Uint64 reads a byte slice (the compiler
// makes it one load).
func stringWord(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// slowStr reads the rest of a string that has escapes or non-ASCII text.
func (d *decoder) slowStr(start int) ([]byte, error) {
	out := append(d.buf[:0], d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			d.buf = out
			return out, nil
		case c < 0x20:
			return nil, errFallback
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return nil, errFallback
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return nil, errFallback
				}
				if r >= 0xD800 && r < 0xE000 {
					return nil, errFallback // surrogates: left to encoding/json
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, errFallback
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, errFallback
			}
			out = append(out, d.b[d.i:d.i+size]...)
			d.i += size
		}
	}
	return nil, errFallback
}

func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}

// number returns the bytes of a number literal, which must follow JSON's
// grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?.
func (d *decoder) number() ([]byte, error) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case digits() == 0:
		return nil, errFallback
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, errFallback
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, errFallback
		}
	}
	return d.b[start:d.i], nil
}

// items reads the elements of an array or the members of an object up to
// end, its opening byte read: item reads element n (an object's key too).
// empty reports whether there were none.
func (d *decoder) items(end byte, item func(n int) error) (empty bool, err error) {
	if d.next(end) {
		return true, nil
	}
	for n := 0; ; n++ {
		d.ws()
		if err := item(n); err != nil {
			return false, err
		}
		if d.next(',') {
			continue
		}
		if d.next(end) {
			return false, nil
		}
		return false, errFallback
	}
}

// skip passes over one value and returns its bytes.
func (d *decoder) skip() ([]byte, error) {
	d.ws()
	start := d.i
	if d.i >= len(d.b) {
		return nil, errFallback
	}
	switch c := d.b[d.i]; {
	case c == '"':
		if _, err := d.str(); err != nil {
			return nil, err
		}
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		d.i++
		if _, err := d.items(end, func(int) error {
			if c == '{' {
				if _, err := d.str(); err != nil {
					return err
				}
				if !d.next(':') {
					return errFallback
				}
			}
			_, err := d.skip()
			return err
		}); err != nil {
			return nil, err
		}
	case c == 't' && d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
	case c == 'f' && d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
	case d.null():
	default:
		if _, err := d.number(); err != nil {
			return nil, err
		}
	}
	return d.b[start:d.i], nil
}

// scratch is a slice that decoding fills before copying it out, kept in
// a pool per slice type.
type scratch struct{ v reflect.Value } // a settable slice

// maxScratch is the most elements a scratch slice keeps for the next
// decoding; a longer one is left to the garbage collector.
const maxScratch = 1024

// release zeroes the scratch slice (the next decoding needs zero
// elements, and none of this one's pointers may stay behind) and returns
// it to pool.
func (sc *scratch) release(pool *sync.Pool) {
	sc.v.Clear()
	sc.v.SetLen(0)
	if sc.v.Cap() <= maxScratch {
		pool.Put(sc)
	}
}

// decNumber decodes a number literal (or null) into v with set, which
// reports whether the literal fits v's kind.
func decNumber(set func(v reflect.Value, n []byte) bool) decFunc {
	return func(d *decoder, v reflect.Value) error {
		if d.null() {
			return nil
		}
		n, err := d.number()
		if err != nil {
			return err
		}
		if !set(v, n) {
			return errFallback
		}
		return nil
	}
}

// opened decodes null (v stays zero) or a value that opens with open,
// whose rest body reads.
func opened(open byte, body decFunc) decFunc {
	return func(d *decoder, v reflect.Value) error {
		if d.null() {
			return nil
		}
		if !d.next(open) {
			return errFallback
		}
		return body(d, v)
	}
}

// compileDec builds the decoder of t. seen breaks recursive types.
func compileDec(t reflect.Type, seen map[reflect.Type]*decFunc) (decFunc, error) {
	if f, ok := seen[t]; ok {
		return func(d *decoder, v reflect.Value) error { return (*f)(d, v) }, nil
	}
	switch t {
	case timeType:
		return func(d *decoder, v reflect.Value) error {
			raw, err := d.skip()
			if err != nil {
				return err
			}
			if err := v.Addr().Interface().(*time.Time).UnmarshalJSON(raw); err != nil {
				return errFallback
			}
			return nil
		}, nil
	case rawMessageType:
		return func(d *decoder, v reflect.Value) error {
			raw, err := d.skip()
			if err != nil || string(raw) == "null" {
				return errFallback
			}
			v.SetBytes(bytes.Clone(raw))
			return nil
		}, nil
	}
	pt := reflect.PointerTo(t)
	if t.Implements(jsonUnmarshaler) || pt.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) || pt.Implements(textUnmarshaler) {
		return nil, errors.New(t.String() + " has its own unmarshaller")
	}
	switch t.Kind() {
	case reflect.String:
		return func(d *decoder, v reflect.Value) error {
			if d.null() {
				return nil
			}
			s, err := d.string()
			if err == nil {
				v.SetString(s)
			}
			return err
		}, nil
	case reflect.Bool:
		return func(d *decoder, v reflect.Value) error {
			switch {
			case d.null():
			case d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
				d.i += 4
				v.SetBool(true)
			case d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
				d.i += 5
			default:
				return errFallback
			}
			return nil
		}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decNumber(func(v reflect.Value, n []byte) bool {
			i, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil || v.OverflowInt(i) {
				return false
			}
			v.SetInt(i)
			return true
		}), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return decNumber(func(v reflect.Value, n []byte) bool {
			i, err := strconv.ParseUint(string(n), 10, 64)
			if err != nil || v.OverflowUint(i) {
				return false
			}
			v.SetUint(i)
			return true
		}), nil
	case reflect.Float64:
		return decNumber(func(v reflect.Value, n []byte) bool {
			f, err := strconv.ParseFloat(string(n), 64)
			if err != nil {
				return false
			}
			v.SetFloat(f)
			return true
		}), nil
	case reflect.Pointer:
		var f decFunc
		seen[t] = &f
		elem, err := compileDec(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		f = func(d *decoder, v reflect.Value) error {
			if d.null() {
				return nil
			}
			p := reflect.New(t.Elem())
			if err := elem(d, p.Elem()); err != nil {
				return err
			}
			v.Set(p)
			return nil
		}
		return f, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if pt := reflect.PointerTo(t.Elem()); t.Elem().Implements(jsonUnmarshaler) || pt.Implements(jsonUnmarshaler) || t.Elem().Implements(textUnmarshaler) || pt.Implements(textUnmarshaler) {
				return nil, errors.New(t.String() + " has bytes with their own unmarshaller")
			}
			// Bytes are a base64 string ("" is empty, not nil).
			return func(d *decoder, v reflect.Value) error {
				var out []byte
				if err := decBytesJSON(d, &out); err != nil || out == nil { // nil: null
					return err
				}
				v.SetBytes(out)
				return nil
			}, nil
		}
		elem, err := compileDec(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		// The elements are decoded into a scratch slice, then copied to
		// one of their exact number: one allocation per slice rather than
		// one per doubling.
		scratches := &sync.Pool{New: func() any { return &scratch{v: reflect.New(t).Elem()} }}
		return opened('[', func(d *decoder, v reflect.Value) error {
			sc := scratches.Get().(*scratch)
			s := sc.v
			empty, err := d.items(']', func(n int) error {
				if n == s.Cap() {
					s.Grow(max(4, n))
				}
				s.SetLen(n + 1)
				return elem(d, s.Index(n))
			})
			switch {
			case empty:
				v.Set(reflect.MakeSlice(t, 0, 0)) // [] is empty, not nil
			case err == nil:
				out := reflect.MakeSlice(t, s.Len(), s.Len())
				reflect.Copy(out, s)
				v.Set(out)
			}
			sc.release(scratches)
			return err
		}), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, errors.New(t.String() + " is a map without string keys")
		}
		elem, err := compileDec(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		return opened('{', func(d *decoder, v reflect.Value) error {
			m := reflect.MakeMap(t)
			// One key and one element for all the members: SetMapIndex
			// copies them into the map.
			key, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			if _, err := d.items('}', func(n int) error {
				k, err := d.string()
				if err != nil {
					return err
				}
				key.SetString(k)
				if m.MapIndex(key).IsValid() || !d.next(':') {
					return errFallback // a repeated key: left to encoding/json
				}
				if n > 0 {
					e.SetZero()
				}
				d.ws()
				if err := elem(d, e); err != nil {
					return err
				}
				m.SetMapIndex(key, e)
				return nil
			}); err != nil {
				return err
			}
			v.Set(m)
			return nil
		}), nil
	case reflect.Struct:
		var f decFunc
		seen[t] = &f
		fields, err := structFields(t, map[reflect.Type]*encFunc{})
		if err != nil {
			return nil, err
		}
		if len(fields) > 64 {
			return nil, errors.New(t.String() + " has more than 64 fields")
		}
		type decField struct {
			index int
			dec   decFunc
		}
		byName := map[string]int{}
		names := make([]string, len(fields))
		dfs := make([]decField, len(fields))
		for i, fd := range fields {
			name, err := strconv.Unquote(string(fd.name[1 : len(fd.name)-1]))
			if err != nil {
				return nil, err
			}
			dec, err := compileDec(t.Field(fd.index).Type, seen)
			if err != nil {
				return nil, err
			}
			byName[name], names[i] = i, name
			dfs[i] = decField{index: fd.index, dec: dec}
		}
		f = opened('{', func(d *decoder, v reflect.Value) error {
			var got uint64
			next := 0 // the field expected next
			_, err := d.items('}', func(int) error {
				k, err := d.str()
				if err != nil {
					return err
				}
				// Documents list the fields in order, some left out:
				// the next few are tried before the map.
				i, ok := -1, false
				for j := next; j < len(names) && j < next+4; j++ {
					if string(k) == names[j] {
						i, ok = j, true
						break
					}
				}
				if !ok {
					i, ok = byName[string(k)]
				}
				if !ok || got&(1<<i) != 0 || !d.next(':') {
					return errFallback // unknown, repeated or malformed
				}
				got |= 1 << i
				next = i + 1
				d.ws()
				return dfs[i].dec(d, v.Field(dfs[i].index))
			})
			return err
		})
		return f, nil
	}
	return nil, errors.New(t.String() + " is of kind " + t.Kind().String())
}
