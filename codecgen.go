package cancellation

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:generate go test -run=TestGeneratedCodecIsCurrent -regenerate-codec

// The plan of codec.go still costs a reflect.Value and an indirect call per
// field. codec_gen.go holds the same codec for requestData and Event (and
// what they hold) written out straight, generated from the types by
// TestGeneratedCodecIsCurrent (go generate runs it with -regenerate-codec;
// without it, it fails when the file is stale). The file records the
// digest of the types' shape it was generated from (codecShape: the
// types, their fields, tags and methods that change JSON, recursively),
// and its init installs the codec only when the types still have that
// shape: a field another change adds, before the file is regenerated, is
// encoded by the plan, never dropped. A field removed or renamed makes
// the file fail to compile: delete it and run go generate.
//
// The generated code writes and reads what the plan does, with the same
// primitives (appendJSONString, the decoder) and the same fallbacks
// (errFallback: the value or document is left to encoding/json).

// codecTypes are the types the generated codec covers, and whose shape it
// records.
var codecTypes = []reflect.Type{reflect.TypeFor[requestData](), reflect.TypeFor[Event]()}

// generatedCodec is the generated codec: enc appends the JSON of v (a
// *requestData or an *Event) to b; dec decodes into v (the same, pointing
// to a zero value). ok is false for other types.
type generatedCodec struct {
	enc func(b []byte, v any) (out []byte, ok bool, err error)
	dec func(d *decoder, v any) (ok bool, err error)
}

// generated is the generated codec, nil until codec_gen.go installs it.
var generated atomic.Pointer[generatedCodec]

// generatedFile is the codec codec_gen.go holds and the shape it was
// generated from, set by its init whether or not it fits; the zero value
// without the file. The tests reach the file's codec through it, so that
// they compile (and go generate runs) without the file.
var generatedFile struct {
	shape string
	codec generatedCodec
}

// installGenerated installs the generated codec when shape is the shape of
// codecTypes, and reports whether it did; otherwise the plan encodes and
// decodes every type.
func installGenerated(shape string, enc func([]byte, any) ([]byte, bool, error), dec func(*decoder, any) (bool, error)) bool {
	if shape != codecShape(codecTypes...) {
		generated.Store(nil)
		return false
	}
	generated.Store(&generatedCodec{enc: enc, dec: dec})
	return true
}

// codecShape digests what the JSON of the types depends on: for each type
// reached from them, its package path, name and kind; for a struct each
// field's name, type, tag and embedding; and whether the type or its
// pointer has a method of encoding/json's (MarshalJSON, MarshalText,
// IsZero and their decoding counterparts).
func codecShape(types ...reflect.Type) string {
	var sb strings.Builder
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		sb.WriteString(t.PkgPath() + "." + t.String() + ":" + t.Kind().String())
		for _, m := range []reflect.Type{jsonMarshaler, textMarshaler, isZeroer, jsonUnmarshaler, textUnmarshaler} {
			sb.WriteString(strconv.FormatBool(t.Implements(m) || reflect.PointerTo(t).Implements(m)))
		}
		sb.WriteString("{")
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			if t == timeType {
				break
			}
			for i := range t.NumField() {
				f := t.Field(i)
				sb.WriteString(f.Name + " " + f.Type.PkgPath() + "." + f.Type.String() + " " + strconv.Quote(string(f.Tag)) + " " + strconv.FormatBool(f.Anonymous) + ";")
				walk(f.Type)
			}
		}
		sb.WriteString("}")
	}
	for _, t := range types {
		walk(t)
	}
	sum := sha256.Sum256([]byte(sb.String()))
	return hex.EncodeToString(sum[:])
}

// appendJSON appends the JSON of v, a pointer to a struct, to b: what
// json.Marshal(v) gives. The generated codec encodes the types it covers,
// the plan the others it knows; the rest, and a value that falls back,
// are encoding/json's.
func appendJSON(b []byte, v any) ([]byte, error) {
	if g := generated.Load(); g != nil {
		if out, ok, err := g.enc(b, v); ok {
			if err == nil {
				return out, nil
			}
			return appendEncodingJSON(b, v)
		}
	}
	rv := reflect.ValueOf(v)
	if p := planFor(rv.Type()); p.ok {
		if out, err := p.f(b, rv); err == nil {
			return out, nil
		}
	}
	return appendEncodingJSON(b, v)
}

func appendEncodingJSON(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// encSliceJSON appends the JSON of s, whose elements elem encodes.
func encSliceJSON[T any](b []byte, s []T, elem func([]byte, *T) ([]byte, error)) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	var err error
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = elem(b, &s[i]); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// encMapJSON appends the JSON of m, whose elements elem encodes: its
// members in the order of their keys, as encoding/json sorts them.
func encMapJSON[K ~string, V any](b []byte, m map[K]V, elem func([]byte, *V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var arr [16]K
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	e := new(V) // one for all the members: elem takes a pointer
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, string(k))
		b = append(b, ':')
		*e = m[k]
		if b, err = elem(b, e); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// encBytesJSON appends bytes as encoding/json writes them: base64.
func encBytesJSON(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// decSliceJSON decodes into *v (nil) an array whose elements elem decodes
// into zero values. The elements go to a scratch slice from pool (a
// *[]T), then to a slice of their exact number, as the plan's do.
func decSliceJSON[T any](d *decoder, v *[]T, pool *sync.Pool, elem func(*decoder, *T) error) error {
	if d.null() {
		return nil
	}
	if !d.next('[') {
		return errFallback
	}
	if d.next(']') {
		*v = []T{} // [] is empty, not nil
		return nil
	}
	sp, _ := pool.Get().(*[]T)
	if sp == nil {
		sp = new([]T)
	}
	s := (*sp)[:0]
	var zero T
	err := errFallback
	for {
		d.ws()
		s = append(s, zero)
		if err = elem(d, &s[len(s)-1]); err != nil {
			break
		}
		if d.next(',') {
			continue
		}
		if d.next(']') {
			*v = slices.Clone(s)
			err = nil
		} else {
			err = errFallback
		}
		break
	}
	clear(s) // the next decoding needs zero elements, and none of these pointers may stay
	if cap(s) <= maxScratch {
		*sp = s[:0]
		pool.Put(sp)
	}
	return err
}

// decMapJSON decodes into *v (nil) an object whose members elem decodes.
// A repeated key is left to encoding/json.
func decMapJSON[K ~string, V any](d *decoder, v *map[K]V, elem func(*decoder, *V) error) error {
	if d.null() {
		return nil
	}
	if !d.next('{') {
		return errFallback
	}
	m := make(map[K]V)
	if d.next('}') {
		*v = m
		return nil
	}
	e := new(V) // one for all the members, zeroed between them
	var zero V
	for {
		d.ws()
		k, err := d.string()
		if err != nil {
			return err
		}
		if _, dup := m[K(k)]; dup || !d.next(':') {
			return errFallback
		}
		d.ws()
		*e = zero
		if err := elem(d, e); err != nil {
			return err
		}
		m[K(k)] = *e
		if d.next(',') {
			continue
		}
		if d.next('}') {
			*v = m
			return nil
		}
		return errFallback
	}
}

// key consumes lit, a member's key and colon as the encoding writes them,
// if it is next.
func (d *decoder) key(lit string) bool {
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// after reads what follows an object's member: a comma (more members
// follow) or the end of the object (end). Anything else falls back.
func (d *decoder) after() (end bool, err error) {
	if d.next(',') {
		return false, nil
	}
	if d.next('}') {
		return true, nil
	}
	return false, errFallback
}

// decBytesJSON decodes a base64 string (or null) into *v.
func decBytesJSON(d *decoder, v *[]byte) error {
	if d.null() {
		return nil
	}
	s, err := d.str()
	if err != nil {
		return err
	}
	out, err := base64.StdEncoding.AppendDecode(make([]byte, 0, base64.StdEncoding.DecodedLen(len(s))), s)
	if err != nil {
		return errFallback
	}
	*v = out // "" is empty, not nil
	return nil
}

// decRawJSON decodes a raw message as the plan does (null is left to
// encoding/json, which decodes it as the four bytes).
func decRawJSON(d *decoder, v *json.RawMessage) error {
	raw, err := d.skip()
	if err != nil || string(raw) == "null" {
		return errFallback
	}
	*v = append(json.RawMessage(nil), raw...)
	return nil
}

// decBoolJSON decodes true, false or null (false).
func decBoolJSON(d *decoder) (bool, error) {
	switch {
	case d.null():
	case d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
		return true, nil
	case d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
	default:
		return false, errFallback
	}
	return false, nil
}

// integer reads a number literal that fits a signed integer of bits
// bits; anything else (a fraction, an exponent, an overflow) falls back,
// as encoding/json refuses it.
func (d *decoder) integer(bits int) (int64, error) {
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	digits := n
	if n[0] == '-' {
		digits = n[1:]
	}
	if len(digits) > 18 { // may not fit an int64: strconv's
		i, err := strconv.ParseInt(string(n), 10, bits)
		if err != nil {
			return 0, errFallback
		}
		return i, nil
	}
	var i int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, errFallback
		}
		i = i*10 + int64(c-'0')
	}
	if n[0] == '-' {
		i = -i
	}
	if bits < 64 && (i < -1<<(bits-1) || i >= 1<<(bits-1)) {
		return 0, errFallback
	}
	return i, nil
}

// unsigned reads a number literal that fits an unsigned integer of bits
// bits.
func (d *decoder) unsigned(bits int) (uint64, error) {
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseUint(string(n), 10, bits)
	if err != nil {
		return 0, errFallback
	}
	return u, nil
}

// float reads a number literal as a float64.
func (d *decoder) float() (float64, error) {
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, errFallback
	}
	return f, nil
}

// decTimeJSON decodes a time as time.Time's UnmarshalJSON does: a UTC
// time in RFC 3339 by parseUTC, anything else by the method itself (an
// error falls back).
func decTimeJSON(d *decoder, v *time.Time) error {
	if d.null() {
		return nil
	}
	if d.i < len(d.b) && d.b[d.i] == '"' {
		// The time package reads the bytes between the quotes as they
		// are, escapes and all.
		start := d.i + 1
		end := start
		for end < len(d.b) && end-start < 40 && d.b[end] != '"' && d.b[end] != '\\' {
			end++
		}
		if end < len(d.b) && d.b[end] == '"' {
			if t, ok := parseUTC(d.b[start:end]); ok {
				*v = t
				d.i = end + 1
				return nil
			}
		}
	}
	raw, err := d.skip()
	if err != nil {
		return err
	}
	if err := v.UnmarshalJSON(raw); err != nil {
		return errFallback
	}
	return nil
}

// time.Time is encoded by appendTime, in codec_time.go.
func encTimeJSON(b []byte, v *time.Time) ([]byte, error) { return appendTime(b, *v) }

// encRawJSON is json.RawMessage as encoding/json writes it (see encRaw).
func encRawJSON(b []byte, v *json.RawMessage) ([]byte, error) {
	return appendRaw(b, *v)
}
