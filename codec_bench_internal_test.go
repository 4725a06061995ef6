package cancellation

import (
	"encoding/json"
	"testing"
)

// BenchmarkStoredEncoding encodes and decodes the document of a request
// at the end of a whole flow (as a Store writes and reads it) with the
// codec (the generated one of codec_gen.go, over codec.go's primitives)
// beside encoding/json, which it replaces:
// encode against encode-encoding-json, decode (Request.UnmarshalBinary,
// which also validates) against decode-encoding-json (json.Unmarshal
// alone).
func BenchmarkStoredEncoding(b *testing.B) {
	raw := approvedDoc(b)
	var d requestData
	if err := json.Unmarshal(raw, &d); err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalJSON(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r Request
			if err := r.UnmarshalBinary(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d requestData
			if err := json.Unmarshal(raw, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
