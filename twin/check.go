package twin

import (
	"context"
	"fmt"

	"citytwin/parts"
)

// PartCheck holds one change record to the rights of whoever writes it,
// against the component as the batch so far leaves it: old is nil for an
// add, next is nil for a retire. It runs under the twin's write mutex, so
// the state it sees is the state the write applies to; an error refuses the
// whole batch (wrapped in a *RecordError naming the record).
type PartCheck func(old, next *parts.Part) error

// ApplyPartsChecked is ApplyParts with check run on every record, inside
// the single write path: after the record is validated and its grid
// located, before anything is persisted. A nil check checks nothing.
func (t *Twin) ApplyPartsChecked(ctx context.Context, cs []PartChange, check PartCheck) ([]parts.Part, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	return t.submitParts(ctx, func(lookup) ([]PartChange, error) { return cs, nil }, check)
}

// runCheck calls check with the pair of an op: (nil, next) for an add,
// (old, next) for a modify, (old, nil) for a retire.
func runCheck(check PartCheck, op Op, old, next *parts.Part) error {
	if check == nil {
		return nil
	}
	var err error
	switch op {
	case OpAdd:
		err = check(nil, next)
	case OpModify:
		err = check(old, next)
	case OpRetire:
		err = check(old, nil)
	default:
		return fmt.Errorf("%w: op %q is not add, modify or retire", ErrInvalidChange, op)
	}
	return err
}
