package modelv2

import (
	"fmt"

	"github.com/ravestation/rave/core"
)

// Discriminator is v2.3.1's CombineDiscriminators([MultiPeriodDiscriminator,
// MultiScaleDiscriminator]) (rave-spec.md §5.2): one ConvNet per period p
// (discriminator.discriminators.0.layers.{i}) on the signal folded into p
// columns, and one per scale (discriminator.discriminators.1.layers.{i}) on
// the signal average-pooled (kernel 2) once more for each scale. A ConvNet
// is n_layers weight-normed convs with biases (widths C, 2C, 4C, …, kernel
// K, stride 4, padding ⌊(K−1)/2⌋ both sides), each followed by
// LeakyReLU(0.2), and a plain conv (kernel 1, with bias) to one channel:
// the score map.
//
// The period ConvNets' Conv2d (kernel (K, 1)) is run as a Conv1d over each
// column: a folded signal is held as (B·p, C, T/p) with row b·p + j the
// column j of example b, not as the reference's (B, C, T/p, p).
// ReferenceLayout converts a feature map back. The losses average over
// whole maps, so they do not depend on the layout.
type Discriminator struct {
	periods []int
	nets    []convNet // periods first, then scales
	names   []string
}

// convNet is one sub-discriminator: features are its convolutions' outputs.
type convNet []*layer

// Features holds, per sub-discriminator (periods, then scales), the
// outputs of its convolutions before their activations; the last is the
// score map.
type Features [][]*core.Tensor

func newDiscriminator(ps *core.ParamSet, dc DiscriminatorConfig) *Discriminator {
	d := &Discriminator{periods: dc.Periods}
	for i, p := range dc.Periods {
		d.nets = append(d.nets, newConvNet(ps, fmt.Sprintf("discriminator.discriminators.0.layers.%d.net.", i), dc, columnConv, dc.PeriodKernel))
		d.names = append(d.names, fmt.Sprintf("period%d", p))
	}
	for i := range dc.Scales {
		d.nets = append(d.nets, newConvNet(ps, fmt.Sprintf("discriminator.discriminators.1.layers.%d.net.", i), dc, plainConv, dc.ScaleKernel))
		d.names = append(d.names, fmt.Sprintf("scale%d", i))
	}
	return d
}

func newConvNet(ps *core.ParamSet, prefix string, dc DiscriminatorConfig, kind layerKind, k int) convNet {
	pad := (k - 1) / 2 // get_padding(k)[0], applied on both sides
	var net convNet
	in := 1
	for i := range dc.Layers {
		out := dc.Capacity << i
		net = append(net, newLayer(ps, layerSpec{
			prefix: fmt.Sprintf("%s%d", prefix, 2*i), kind: kind, cin: in, cout: out,
			k: k, stride: dc.Stride, left: pad, right: pad, weightNorm: true, bias: true,
		}))
		in = out
	}
	return append(net, newLayer(ps, layerSpec{prefix: fmt.Sprintf("%s%d", prefix, 2*dc.Layers), kind: kind, cin: in, cout: 1, k: 1, bias: true}))
}

func (n convNet) forward(tp *core.Tape, x *core.Tensor) []*core.Tensor {
	feats := make([]*core.Tensor, 0, len(n))
	h := n[0].apply(tp, x)
	feats = append(feats, h)
	for _, l := range n[1:] {
		h = l.applyLeaky(tp, h)
		feats = append(feats, h)
	}
	return feats
}

// Forward returns the feature maps of every sub-discriminator for audio x
// (B, 1, T).
func (d *Discriminator) Forward(tp *core.Tape, x *core.Tensor) Features {
	if s := x.Shape(); len(s) != 3 || s[1] != 1 {
		panic(fmt.Sprintf("modelv2: Discriminator: input %v, want (B, 1, T)", s))
	}
	feats := make(Features, 0, len(d.nets))
	for i, p := range d.periods {
		feats = append(feats, d.nets[i].forward(tp, PeriodFold(tp, x, p)))
	}
	pooled := x
	for i, net := range d.nets[len(d.periods):] {
		if i > 0 {
			pooled = tp.AvgPool1d(pooled, 2, 2, 0)
		}
		feats = append(feats, net.forward(tp, pooled))
	}
	return feats
}

// Names returns the sub-discriminators' names in Features order: period2,
// period3, …, scale0, scale1, ….
func (d *Discriminator) Names() []string { return d.names }

// ReferenceLayout returns feature map f of sub-discriminator sub for a batch
// of batch examples in the reference's layout: a period map (B·p, C, H)
// becomes (B, C, H, p); a scale map is returned as is.
func (d *Discriminator) ReferenceLayout(sub, batch int, f *core.Tensor) *core.Tensor {
	if sub >= len(d.periods) {
		return f
	}
	p := d.periods[sub]
	s := f.Shape()
	if len(s) != 3 || s[0] != batch*p {
		panic(fmt.Sprintf("modelv2: ReferenceLayout: map %v is not a period-%d map of %d examples", s, p, batch))
	}
	c, h := s[1], s[2]
	out := core.Zeros(batch, c, h, p)
	src, dst := f.Data(), out.Data()
	for b := range batch {
		for j := range p {
			for ch := range c {
				row := src[((b*p+j)*c+ch)*h:][:h]
				for t, v := range row {
					dst[((b*c+ch)*h+t)*p+j] = v
				}
			}
		}
	}
	return out
}

func (d *Discriminator) layers() []*layer {
	var ls []*layer
	for _, n := range d.nets {
		ls = append(ls, n...)
	}
	return ls
}

// foldOp is PeriodFold on the tape.
type foldOp struct {
	x, y *core.Tensor
	p    int
}

// PeriodFold returns x (B, C, T) right-padded with zeros to a multiple of p
// and cut into its p columns, (B·p, C, ⌈T/p⌉): y[b·p + j, c, h] =
// x[b, c, h·p + j] (0 beyond T). It is MultiPeriodDiscriminator.fold
// followed by moving the period axis next to the batch, so that a (K, 1)
// Conv2d becomes a Conv1d. Differentiable with respect to x.
func PeriodFold(tp *core.Tape, x *core.Tensor, p int) *core.Tensor {
	s := x.Shape()
	if len(s) != 3 || p < 1 || s[2] == 0 {
		panic(fmt.Sprintf("modelv2: PeriodFold: input %v with period %d", s, p))
	}
	b, c, t := s[0], s[1], s[2]
	h := (t + p - 1) / p
	y := tp.Output(b*p, c, h)
	src, dst := x.Data(), y.Data()
	for bi := range b {
		for j := range p {
			for ch := range c {
				in := src[(bi*c+ch)*t:][:t]
				out := dst[((bi*p+j)*c+ch)*h:][:h]
				for k := range out {
					out[k] = 0
					if i := k*p + j; i < t {
						out[k] = in[i]
					}
				}
			}
		}
	}
	tp.Record(&foldOp{x: x, y: y, p: p}, y, x)
	return y
}

// Backward scatters the columns' gradients back to the signal.
func (o *foldOp) Backward() {
	gy := o.y.Grad()
	if gy == nil || !o.x.RequiresGrad() {
		return
	}
	gx := o.x.EnsureGrad()
	s := o.x.Shape()
	b, c, t, p := s[0], s[1], s[2], o.p
	h := o.y.Dim(2)
	for bi := range b {
		for j := range p {
			for ch := range c {
				g := gy[((bi*p+j)*c+ch)*h:][:h]
				dst := gx[(bi*c+ch)*t:][:t]
				for k, v := range g {
					if i := k*p + j; i < t {
						dst[i] += v
					}
				}
			}
		}
	}
}
