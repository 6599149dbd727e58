package model

import (
	"fmt"

	"github.com/ravestation/rave/core"
)

// The v1 adversarial objectives (rave/core.py hinge_gan and the feature
// matching of rave/model.py RAVE.training_step; rave-spec.md §6.3, §6.4).
// Their inputs are Discriminator.Forward outputs: per scale, every conv's
// output, the last one being the score map.

// HingeDiscriminatorLoss returns Σ_scales mean(relu(1 − D(x)) + relu(1 + D(ŷ)))
// from the features of real audio and of (detached) generated audio.
func HingeDiscriminatorLoss(tp *core.Tape, real, fake [][]*core.Tensor) *core.Tensor {
	checkScales(real, fake)
	var total *core.Tensor
	for s := range real {
		r, f := last(real[s]), last(fake[s])
		lr := tp.LeakyReLU(tp.AddScalar(tp.Scale(r, -1), 1), 0) // relu(1 − D(x))
		lf := tp.LeakyReLU(tp.AddScalar(f, 1), 0)               // relu(1 + D(ŷ))
		term := tp.Mean(tp.Add(lr, lf), false)
		total = accumulate(tp, total, term)
	}
	return total
}

// HingeGeneratorLoss returns Σ_scales −mean(D(ŷ)), the generator's
// adversarial term.
func HingeGeneratorLoss(tp *core.Tape, fake [][]*core.Tensor) *core.Tensor {
	var total *core.Tensor
	for _, f := range fake {
		total = accumulate(tp, total, tp.Scale(tp.Mean(last(f), false), -1))
	}
	return total
}

// FeatureMatchingLoss returns Σ_scales 10·(1/n)·Σ_layers mean|F_real − F_fake|
// over all n feature maps of each scale, score maps included (v1
// feature_matching_distance; weight 10 inside the sum). The real features
// are targets (they should not require gradients).
func FeatureMatchingLoss(tp *core.Tape, real, fake [][]*core.Tensor) *core.Tensor {
	checkScales(real, fake)
	var total *core.Tensor
	for s := range real {
		if len(real[s]) != len(fake[s]) {
			panic(fmt.Sprintf("model: FeatureMatchingLoss: scale %d has %d real and %d fake features", s, len(real[s]), len(fake[s])))
		}
		var sum *core.Tensor
		for l := range real[s] {
			sum = accumulate(tp, sum, tp.MeanAbsDiff(real[s][l], fake[s][l]))
		}
		total = accumulate(tp, total, tp.Scale(sum, float32(10/float64(len(real[s])))))
	}
	return total
}

func last(fs []*core.Tensor) *core.Tensor { return fs[len(fs)-1] }

func accumulate(tp *core.Tape, total, term *core.Tensor) *core.Tensor {
	if total == nil {
		return term
	}
	return tp.Add(total, term)
}

func checkScales(real, fake [][]*core.Tensor) {
	if len(real) != len(fake) || len(real) == 0 {
		panic(fmt.Sprintf("model: adversarial loss: %d real and %d fake scales", len(real), len(fake)))
	}
}
