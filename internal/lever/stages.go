package lever

import (
	"context"
	"fmt"
)

// Built-in stage ids, which are slugs rather than UUIDs.
const (
	// StageNewLead is the first stage of a sourced lead.
	StageNewLead = "lead-new"
	// StageNewApplicant is the first stage of an applicant.
	StageNewApplicant = "applicant-new"
	// StageOffer is the final built-in stage.
	StageOffer = "offer"
)

// Stage is a pipeline stage. ListStages returns them in pipeline order.
type Stage struct {
	// ID is the stage id: a built-in slug or a UUID.
	ID string `json:"id"`
	// Text is the stage name shown in Lever.
	Text string `json:"text"`
}

// ListStages returns the account's pipeline stages.
func (c *Client) ListStages(ctx context.Context) ([]Stage, error) {
	s, err := listAll[Stage](ctx, c, "/stages", nil, 0)
	if err != nil {
		return nil, fmt.Errorf("list stages: %w", err)
	}
	return s, nil
}
