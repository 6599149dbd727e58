package arith_test

import (
	"fmt"

	"github.com/ravestation/rave/core/arith"
)

// ExampleEncoder codes a skewed binary message and decodes it again.
func ExampleEncoder() {
	cum := arith.Frequencies([]float64{0.9, 0.1}, 1<<16)
	msg := []int{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}
	enc := arith.NewEncoder()
	for _, s := range msg {
		enc.Encode(cum, s)
	}
	data := enc.Finish()
	dec := arith.NewDecoder(data)
	var out []int
	for range msg {
		s, err := dec.Decode(cum)
		if err != nil {
			fmt.Println(err)
			return
		}
		out = append(out, s)
	}
	fmt.Println(cum, len(data), "bytes")
	fmt.Println(out)
	// Output:
	// [0 58982 65536] 2 bytes
	// [0 0 0 1 0 0 0 0 0 0 1 0 0 0 0 0]
}
