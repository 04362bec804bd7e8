package parts

import (
	"context"
	"fmt"
	"math"
	"slices"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// MaxK is the largest k of Nearest.
const MaxK = 1000

// mPerDeg is the length in metres of a degree of latitude on the sphere.
const mPerDeg = spatial.EarthRadius * math.Pi / 180

// Neighbor is a part found by Nearest and its distance.
type Neighbor struct {
	Part     Part
	Distance float64 // metres to the nearest point of the part's geometry (0 inside a polygon)
}

// Nearest returns the k live parts nearest to pt that pass the filter, in
// ascending distance (metres on the sphere to the nearest point of each
// geometry), ties by code. maxDist > 0 drops parts further than maxDist
// metres; 0 means unbounded. Errors are *FieldError wrapping
// ErrInvalidQuery (Field "k", "point" or "max_dist"), or the context's
// error.
func (r *Registry) Nearest(ctx context.Context, pt orb.Point, k int, f Filter, maxDist float64) ([]Neighbor, error) {
	if k < 1 || k > MaxK {
		return nil, &FieldError{Field: "k", Reason: fmt.Sprintf("%d is not in 1..%d", k, MaxK), Err: ErrInvalidQuery}
	}
	if err := spatial.ValidateBound(orb.Bound{Min: pt, Max: pt}); err != nil {
		return nil, &FieldError{Field: "point", Reason: err.Error(), Err: ErrInvalidQuery}
	}
	if !(maxDist >= 0) || math.IsInf(maxDist, 0) {
		return nil, &FieldError{Field: "max_dist", Reason: fmt.Sprintf("%v is not a distance in metres >= 0", maxDist), Err: ErrInvalidQuery}
	}
	if maxDist == 0 {
		maxDist = math.MaxFloat64
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.compile(f)
	if m.none {
		return []Neighbor{}, nil
	}
	metric := spatial.NewMetric(pt)
	found, ok, err := r.nearestByBoxes(ctx, m, &metric, k, maxDist)
	if err == nil && !ok {
		found, err = r.nearestByTree(ctx, m, &metric, k, maxDist)
	}
	if err != nil {
		return nil, err
	}
	sortCands(found)
	found = found[:min(k, len(found))]
	out := make([]Neighbor, len(found))
	for i, c := range found {
		r.fill(&out[i].Part, c.idx)
		out[i].Distance = c.d
	}
	return out, nil
}

// cand is a candidate of Nearest.
type cand struct {
	idx  uint32
	code uint64
	d    float64
}

func sortCands(c []cand) {
	slices.SortFunc(c, func(a, b cand) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		case a.code < b.code:
			return -1
		case a.code > b.code:
			return 1
		}
		return 0
	})
}

// maxBoxRadius is the largest radius (metres) searched by nearestByBoxes;
// beyond it the local metric is not used and the tree walk takes over.
const maxBoxRadius = 40000

// distance returns the metric distance of a record, +Inf if filtered out.
func (r *Registry) distance(m *matcher, metric *spatial.Metric, rec *record) float64 {
	if !m.match(r, rec) {
		return math.Inf(1)
	}
	if rec.flags&flagShape != 0 {
		return metric.Distance(r.shapes[rec.geo])
	}
	return metric.PointDistance(r.pts[rec.geo])
}

// nearestByBoxes finds the k nearest with box searches of growing radius: a
// box that holds the circle of radius rad finds every part within rad, so
// once k parts are within rad they are the answer (ties included). It
// starts from the radius that holds k parts at the mean density and gives
// up (ok false) past maxBoxRadius. Candidates come back unsorted.
func (r *Registry) nearestByBoxes(ctx context.Context, m *matcher, metric *spatial.Metric, k int, maxDist float64) (found []cand, ok bool, err error) {
	live := max(r.live, 1)
	all := r.tree.Bound()
	o := metric.Origin()
	area := math.Max(all.Max[0]-all.Min[0], 1e-6) * math.Max(all.Max[1]-all.Min[1], 1e-6) *
		mPerDeg * mPerDeg * math.Cos(o[1]*math.Pi/180)
	rad := math.Max(5, math.Sqrt(float64(k)*area/(math.Pi*float64(live)))/3)
	// Room for the candidates of a typical box from the start, rather than
	// growing from nothing by doubling on every search.
	found = make([]cand, 0, max(64, 4*k))
	for {
		if rad > maxDist {
			rad = maxDist
		}
		if rad > maxBoxRadius {
			return nil, false, nil
		}
		dlat := rad / mPerDeg
		top := math.Min(89.9, math.Abs(o[1])+dlat)
		dlon := rad / (mPerDeg * math.Cos(top*math.Pi/180)) * 1.01
		b := orb.Bound{Min: orb.Point{o[0] - dlon, o[1] - dlat*1.01}, Max: orb.Point{o[0] + dlon, o[1] + dlat*1.01}}
		if b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
			return nil, false, nil
		}
		found = found[:0]
		within := 0
		err = r.tree.SearchContext(ctx, b, func(idx uint32) bool {
			rec := &r.recs[idx]
			if d := r.distance(m, metric, rec); d <= maxDist {
				found = append(found, cand{idx, rec.code, d})
				if d <= rad {
					within++
				}
			}
			return true
		})
		if err != nil {
			return nil, false, err
		}
		// Complete when k parts lie within rad (nothing outside the circle
		// can beat them), when the circle reaches maxDist, or when the box
		// holds the whole registry (everything was seen).
		if within >= k || rad >= maxDist || (b.Min[0] <= all.Min[0] && b.Min[1] <= all.Min[1] && b.Max[0] >= all.Max[0] && b.Max[1] >= all.Max[1]) {
			return found, true, nil
		}
		found = found[:0]
		// Grow by the missing share of k (as by area), at least 2x.
		grow := 2.0
		if within > 0 {
			grow = math.Max(grow, math.Sqrt(float64(k)/float64(within))*1.2)
		} else {
			grow = 4
		}
		rad *= grow
	}
}

// nearestByTree walks the R-tree best-first; it serves large radii.
func (r *Registry) nearestByTree(ctx context.Context, m *matcher, metric *spatial.Metric, k int, maxDist float64) ([]cand, error) {
	var found []cand
	var err error
	n := 0
	r.tree.Nearby(metric.Origin(), func(idx uint32) float64 {
		return r.distance(m, metric, &r.recs[idx])
	}, func(idx uint32, d float64) bool {
		if n++; n%spatial.CheckEvery == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		if d > maxDist {
			return false
		}
		// Past k, keep only the ties of the k-th, so that ties go by code.
		if len(found) >= k && d > found[k-1].d {
			return false
		}
		found = append(found, cand{idx, r.recs[idx].code, d})
		return true
	})
	if err == nil {
		err = ctx.Err()
	}
	return found, err
}
