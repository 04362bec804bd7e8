package spatial

import (
	"sync"
	"unsafe"

	"github.com/tidwall/rtree"
)

// Packing an R-tree: tidwall/rtree has no bulk load, and inserting millions
// of items one by one costs a descent, a sorted insert and now and then a
// split each. A Packer builds the tree's nodes itself, full and in the
// order given (a Hilbert order keeps them tight), in the layout of
// rtree.RTreeGN v1.10: the mirror types below must match its unexported
// ones field for field. packable checks that they do at run time (sizes
// and a probe of a one-item tree); when they do not, the Packer falls back
// to Insert, which is slower but always right.

// packMax is rtree's maxEntries: the most children or items of a node.
const packMax = 64

// Node kinds of rtree.
const (
	kindLeaf   int8 = 1
	kindBranch int8 = 2
)

// rect32 mirrors rtree.rect[float32].
type rect32 struct{ min, max [2]float32 }

func (r *rect32) expand(b *rect32) {
	r.min[0] = min(r.min[0], b.min[0])
	r.min[1] = min(r.min[1], b.min[1])
	r.max[0] = max(r.max[0], b.max[0])
	r.max[1] = max(r.max[1], b.max[1])
}

// treeMirror mirrors rtree.RTreeGN[float32, T].
type treeMirror[T any] struct {
	icow  uint64
	count int
	rect  rect32
	root  *nodeMirror
	empty T
	qpool *sync.Pool
}

// nodeMirror mirrors rtree.node[float32, T], the head of a leaf or branch.
type nodeMirror struct {
	icow  uint64
	kind  int8
	count int16
	rects [packMax]rect32
}

// leafMirror mirrors rtree.leafNode[float32, T].
type leafMirror[T any] struct {
	nodeMirror
	items [packMax]T
}

// branchMirror mirrors rtree.branchNode[float32, T].
type branchMirror struct {
	nodeMirror
	children [packMax]*nodeMirror
}

// packable reports whether the mirror types match rtree's layout for
// Index[T], probing tr, a tree that holds exactly the one item (min, max,
// v).
func packable[T comparable](tr *rtree.RTreeGN[float32, T], min, max [2]float32, v T) bool {
	if unsafe.Sizeof(*tr) != unsafe.Sizeof(treeMirror[T]{}) {
		return false
	}
	m := (*treeMirror[T])(unsafe.Pointer(tr))
	if m.count != 1 || m.root == nil || m.qpool == nil || m.rect != (rect32{min, max}) ||
		m.root.kind != kindLeaf || m.root.count != 1 || m.root.rects[0] != m.rect || m.root.icow != m.icow {
		return false
	}
	return (*leafMirror[T])(unsafe.Pointer(m.root)).items[0] == v
}

// Packer loads an empty Index from items given in a spatial order (a
// Hilbert order): consecutive items fill a leaf, consecutive leaves a
// branch, and so on up. Add the items, then call Done. The tree is the one
// that rtree would hold after inserting the same items, as far as its
// queries can tell (the same items answer every search; the nodes differ),
// and later Inserts and Deletes work on it as on any other.
type Packer[T comparable] struct {
	// Advise, when set before the first Add, is called with each block of
	// memory that the leaves are cut from, before anything is written to
	// it (a caller may ask the kernel for huge pages there).
	Advise func(p unsafe.Pointer, size uintptr)

	ix     *Index[T]
	fast   bool // the mirror layout matches (see packable)
	leaves []*nodeMirror
	leaf   *leafMirror[T]
	n      int
	hint   int             // sizeHint, the number of items expected
	slab   []leafMirror[T] // leaves not used yet
}

// Packer returns a Packer that loads ix, which must be empty. sizeHint is
// about the number of items.
func (ix *Index[T]) Packer(sizeHint int) *Packer[T] {
	if ix.tr.Len() != 0 {
		panic("spatial: Packer on an index that is not empty")
	}
	sizeHint = max(sizeHint, 0)
	return &Packer[T]{ix: ix, hint: sizeHint, leaves: make([]*nodeMirror, 0, (sizeHint+packMax-1)/packMax)}
}

// newLeaf returns an empty leaf. Leaves are cut from a few big blocks
// rather than allocated one by one: the first for the leaves that the
// size hint asks for, then blocks of an eighth as many.
func (p *Packer[T]) newLeaf() *leafMirror[T] {
	if len(p.slab) == 0 {
		k := (p.hint+packMax-1)/packMax - len(p.leaves)
		if k <= 0 {
			k = len(p.leaves)/8 + 1
		}
		p.slab = make([]leafMirror[T], k)
		if p.Advise != nil {
			p.Advise(unsafe.Pointer(&p.slab[0]), uintptr(k)*unsafe.Sizeof(p.slab[0]))
		}
	}
	l := &p.slab[0]
	p.slab = p.slab[1:]
	l.kind = kindLeaf
	return l
}

// Add adds v with the float32 box (min, max) rounded outward, as Box32
// gives it.
func (p *Packer[T]) Add(min, max [2]float32, v T) {
	if p.n == 0 {
		// The first item goes in through Insert: it sets up what the tree
		// keeps besides its nodes, and shows whether the layout matches.
		p.ix.tr.Insert(min, max, v)
		p.fast = packable(&p.ix.tr, min, max, v)
		if p.fast {
			m := (*treeMirror[T])(unsafe.Pointer(&p.ix.tr))
			p.leaf = (*leafMirror[T])(unsafe.Pointer(m.root))
			p.leaves = append(p.leaves, m.root)
		}
		p.n++
		return
	}
	p.n++
	if !p.fast {
		p.ix.tr.Insert(min, max, v)
		return
	}
	if p.leaf.count == packMax {
		p.leaf = p.newLeaf()
		p.leaves = append(p.leaves, &p.leaf.nodeMirror)
	}
	i := p.leaf.count
	p.leaf.rects[i] = rect32{min, max}
	p.leaf.items[i] = v
	p.leaf.count++
}

// Done finishes the tree: it sorts each node by the west edge of its
// entries (as rtree keeps them), builds the branches and sets the root.
// The Packer is not usable afterwards.
func (p *Packer[T]) Done() {
	if !p.fast || p.n <= 1 {
		p.leaves, p.leaf, p.slab = nil, nil, nil
		return
	}
	m := (*treeMirror[T])(unsafe.Pointer(&p.ix.tr))
	for _, n := range p.leaves {
		n.icow = m.icow
		sortLeaf((*leafMirror[T])(unsafe.Pointer(n)))
	}
	level := p.leaves
	for len(level) > 1 {
		up := make([]*nodeMirror, 0, (len(level)+packMax-1)/packMax)
		for len(level) > 0 {
			k := min(len(level), packMax)
			b := &branchMirror{nodeMirror: nodeMirror{icow: m.icow, kind: kindBranch, count: int16(k)}}
			for i, c := range level[:k] {
				b.rects[i] = c.bound()
				b.children[i] = c
			}
			sortBranch(b)
			up = append(up, &b.nodeMirror)
			level = level[k:]
		}
		level = up
	}
	m.root = level[0]
	m.rect = m.root.bound()
	m.count = p.n
	p.leaves, p.leaf, p.slab = nil, nil, nil
}

// bound returns the box of a node's entries.
func (n *nodeMirror) bound() rect32 {
	r := n.rects[0]
	for i := 1; i < int(n.count); i++ {
		r.expand(&n.rects[i])
	}
	return r
}

// sortLeaf sorts the items of a leaf by their west edge (insertion sort:
// 64 at most).
func sortLeaf[T any](n *leafMirror[T]) {
	for i := 1; i < int(n.count); i++ {
		r, v := n.rects[i], n.items[i]
		j := i
		for ; j > 0 && r.min[0] < n.rects[j-1].min[0]; j-- {
			n.rects[j], n.items[j] = n.rects[j-1], n.items[j-1]
		}
		n.rects[j], n.items[j] = r, v
	}
}

// sortBranch sorts the children of a branch by their west edge.
func sortBranch(n *branchMirror) {
	for i := 1; i < int(n.count); i++ {
		r, c := n.rects[i], n.children[i]
		j := i
		for ; j > 0 && r.min[0] < n.rects[j-1].min[0]; j-- {
			n.rects[j], n.children[j] = n.rects[j-1], n.children[j-1]
		}
		n.rects[j], n.children[j] = r, c
	}
}
