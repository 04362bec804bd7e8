package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// chengduDistricts are the GB/T 2260 county codes and names of Chengdu's
// districts, the five central ones first: the districts nearest the centre
// of the square take the first codes.
var chengduDistricts = [...]struct {
	code uint32
	name string
}{
	{510104, "锦江区"}, {510105, "青羊区"}, {510106, "金牛区"}, {510107, "武侯区"},
	{510108, "成华区"}, {510112, "龙泉驿区"}, {510113, "青白江区"}, {510114, "新都区"},
	{510115, "温江区"}, {510116, "双流区"}, {510117, "郫都区"},
}

// nameChars are the characters place names are made of.
var nameChars = []rune("锦青金武成龙华新温双春熙玉林望江桐梓府南蜀都天光清水丰茂瑞祥和平安康" +
	"盛兴隆永乐福德文长顺宽窄红星沙河桥园北东西苑荷花芳草桂溪石羊晋阳簇浆洗市驷马抚琴营门" +
	"九眼合亭牛沙湾驿泉柳城")

// namer makes Chinese-looking place names from the generator.
type namer struct {
	rng *rand.Rand
}

// stem returns n (at most 4) distinct random characters.
func (nm *namer) stem(n int) string {
	var b [4]rune
	for i := 0; i < n; {
		c := nameChars[nm.rng.IntN(len(nameChars))]
		if !slices.Contains(b[:i], c) {
			b[i] = c
			i++
		}
	}
	return string(b[:n])
}

// pick returns one of the choices.
func (nm *namer) pick(choices ...string) string { return choices[nm.rng.IntN(len(choices))] }

// unique returns stem + middle + suffix not yet in seen, and records it.
func (nm *namer) unique(seen map[string]bool, suffix string, middles ...string) string {
	for try := 0; ; try++ {
		n := 2
		if try > 20 {
			n = 3
		}
		s := nm.stem(n) + nm.pick(middles...) + suffix
		if try > 60 {
			s = fmt.Sprintf("%s%d%s", nm.stem(2), try, suffix)
		}
		if !seen[s] {
			seen[s] = true
			return s
		}
	}
}
