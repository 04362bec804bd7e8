package postgis

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// pipeline queues statements of one transaction and sends them in one
// round trip. A statement queued with queueCond must write exactly one
// row; when it writes none, its conflict function builds the error (after
// the pipeline, since it reads the stored version).
type pipeline struct {
	batch pgx.Batch
	ops   []string
	conds []func() error // nil for plain statements
}

func (p *pipeline) queue(op, q string, args ...any) {
	p.batch.Queue(q, args...)
	p.ops = append(p.ops, op)
	p.conds = append(p.conds, nil)
}

func (p *pipeline) queueCond(op, q string, args []any, conflict func() error) {
	p.batch.Queue(q, args...)
	p.ops = append(p.ops, op)
	p.conds = append(p.conds, conflict)
}

// run sends the queued statements and checks each result in order.
func (p *pipeline) run(ctx context.Context, tx pgx.Tx) error {
	if len(p.ops) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, &p.batch)
	var conflict func() error
	for i, op := range p.ops {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return wrap(op, err)
		}
		if p.conds[i] != nil && tag.RowsAffected() != 1 && conflict == nil {
			conflict = p.conds[i]
		}
	}
	if err := br.Close(); err != nil {
		return wrap("pipeline", err)
	}
	if conflict != nil {
		return conflict()
	}
	return nil
}
