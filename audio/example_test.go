package audio_test

import (
	"fmt"
	"math"

	"github.com/ravestation/rave/audio"
)

func ExampleResample() {
	// One second of a 1 kHz tone at 44.1 kHz, converted to 48 kHz.
	x := make([]float32, 44100)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*1000*float64(i)/44100))
	}
	y, err := audio.Resample(x, 44100, 48000)
	if err != nil {
		panic(err)
	}
	// No delay: output sample 24012 sits at t = 0.50025 s, 500¼ periods in,
	// where the tone peaks. (Within the filter's span of either end, about
	// 80 samples, the output rings because the input starts and stops abruptly.)
	fmt.Println(len(y))
	fmt.Printf("%.6f\n", y[24012])
	// Output:
	// 48000
	// 0.500000
}

func ExampleBlocks() {
	s := audio.NewSliceStream([]float32{1, 2, 3, 4, 5, 6, 7}, 48000)
	for block, err := range audio.Blocks(s, 3) {
		if err != nil {
			panic(err)
		}
		fmt.Println(block)
	}
	// Output:
	// [1 2 3]
	// [4 5 6]
	// [7]
}
