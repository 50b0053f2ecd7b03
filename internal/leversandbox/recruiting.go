package leversandbox

import (
	"fmt"
	"slices"
	"strings"
)

// Event names of the opportunity changes a recruiter makes in Lever.
const (
	eventArchiveChange = "candidateArchiveChange"
	eventDeleted       = "candidateDeleted"
)

// archiveReasons are the sandbox's archive reasons (Lever's are
// customer-defined; these mirror its defaults).
var archiveReasons = []stage{
	{ID: "underqualified", Text: "Underqualified"},
	{ID: "withdrew", Text: "Withdrew"},
	{ID: "position-filled", Text: "Position filled"},
	{ID: "hired", Text: "Hired"},
}

// archived is an opportunity's archive state.
type archived struct {
	Reason     string `json:"reason"`
	ArchivedAt int64  `json:"archivedAt"`
}

func archiveReasonKnown(id string) bool {
	return slices.ContainsFunc(archiveReasons, func(r stage) bool { return r.ID == id })
}

// opportunityEventData is what Lever's candidate* webhooks carry about the
// opportunity they concern.
func opportunityEventData(o *opportunity) map[string]any {
	return map[string]any{"opportunityId": o.ID, "candidateId": o.ID, "contactId": o.Contact}
}

// MoveStage moves an opportunity to a stage as a recruiter would in Lever's
// UI, and fires candidateStageChange when the stage changes.
func (s *Server) MoveStage(opportunityID, stageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.opportunity(opportunityID)
	if o == nil {
		return fmt.Errorf("%w: opportunities %s", errNotFound, opportunityID)
	}
	if s.st.stageIndex(stageID) < 0 {
		return fmt.Errorf("%w: stages %s was not found", errInput, stageID)
	}
	s.moveStageLocked(o, stageID, "")
	s.saveLocked()
	return nil
}

// moveStageLocked moves o to stageID (known) on behalf of userID, recording
// the change and firing candidateStageChange; moving to the current stage
// changes nothing. Callers hold s.mu.
func (s *Server) moveStageLocked(o *opportunity, stageID, userID string) {
	from := o.Stage
	if from == stageID {
		return
	}
	now := millis(s.now())
	o.Stage = stageID
	o.StageChanges = append(o.StageChanges, stageChange{ToStageID: stageID, ToStageIndex: s.st.stageIndex(stageID), UserID: userID, UpdatedAt: now})
	o.LastAdvancedAt, o.UpdatedAt = now, now
	data := opportunityEventData(o)
	data["toStageId"], data["fromStageId"] = stageID, from
	s.fireLocked(eventStageChange, o.Origin, data)
}

// Archive archives an opportunity with one of the archive reasons, and
// fires candidateArchiveChange; archiving an archived one changes nothing.
func (s *Server) Archive(opportunityID, reason string) error {
	if !archiveReasonKnown(reason) {
		return fmt.Errorf("%w: unknown archive reason %q", errInput, reason)
	}
	return s.setArchived(opportunityID, &archived{Reason: reason})
}

// Unarchive restores an archived opportunity and fires
// candidateArchiveChange.
func (s *Server) Unarchive(opportunityID string) error {
	return s.setArchived(opportunityID, nil)
}

func (s *Server) setArchived(opportunityID string, to *archived) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.opportunity(opportunityID)
	if o == nil {
		return fmt.Errorf("%w: opportunities %s", errNotFound, opportunityID)
	}
	if (o.Archived == nil) == (to == nil) {
		return nil
	}
	now := millis(s.now())
	if to != nil {
		to.ArchivedAt = now
	}
	from := o.Archived
	o.Archived, o.UpdatedAt = to, now
	data := opportunityEventData(o)
	data["toArchived"], data["fromArchived"] = archivedJSON(to), archivedJSON(from)
	s.fireLocked(eventArchiveChange, o.Origin, data)
	s.saveLocked()
	return nil
}

// archivedJSON is an archive state as Lever writes it: null when active.
func archivedJSON(a *archived) any {
	if a == nil {
		return nil
	}
	return map[string]any{"reason": a.Reason, "archivedAt": a.ArchivedAt}
}

// DeleteOpportunity deletes an opportunity, as a recruiter removing a
// candidate's data does, and fires candidateDeleted. Afterwards the API
// answers 404 for it; the sandbox keeps it, marked deleted, so that tests
// and the UI can still see what was written to it before.
func (s *Server) DeleteOpportunity(opportunityID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.opportunity(opportunityID)
	if o == nil {
		return fmt.Errorf("%w: opportunities %s", errNotFound, opportunityID)
	}
	now := millis(s.now())
	o.DeletedAt = &now
	data := opportunityEventData(o)
	data["deletedBy"] = s.st.Users[0].ID
	s.fireLocked(eventDeleted, o.Origin, data)
	s.saveLocked()
	return nil
}

// DeactivateUser deactivates a Lever user: perform_as with it then fails,
// as in Lever.
func (s *Server) DeactivateUser(idOrEmail string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.st.Users {
		if u.ID == idOrEmail || strings.EqualFold(u.Email, idOrEmail) {
			if u.DeactivatedAt == nil {
				now := millis(s.now())
				u.DeactivatedAt = &now
				s.saveLocked()
			}
			return nil
		}
	}
	return fmt.Errorf("%w: users %s", errNotFound, idOrEmail)
}
