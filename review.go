package winnow

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Review is one job-team member's score and comment on a submitted applicant. Each
// reviewer has at most one review per applicant; saving again replaces it.
type Review struct {
	ID          string
	OrgID       string
	ApplicantID string
	ReviewerID  string
	Score       int // 1 (no) to 4 (strong yes)
	Comment     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ScoreLabels names the scores as reviewers read them.
var ScoreLabels = map[int]string{1: "No", 2: "Leaning no", 3: "Leaning yes", 4: "Strong yes"}

// MaxCommentLength is the most characters in a review's comment.
const MaxCommentLength = 10000

// Validate reports whether the review can be stored.
func (r *Review) Validate() error {
	r.Comment = strings.TrimSpace(r.Comment)
	switch {
	case r.OrgID == "" || r.ApplicantID == "" || r.ReviewerID == "":
		return Errorf(EINVALID, "A review needs an applicant and a reviewer.")
	case r.Score < 1 || r.Score > 4:
		return Errorf(EINVALID, "Score must be from 1 to 4.")
	case tooLong(r.Comment, MaxCommentLength):
		return Errorf(EINVALID, "Comment must be at most %s characters.", thousands(MaxCommentLength))
	}
	return nil
}

// AverageScore is the mean score of reviews as pages show it, to one decimal ("3.5"),
// or "" when there are none.
func AverageScore(reviews []*Review) string {
	if len(reviews) == 0 {
		return ""
	}
	total := 0
	for _, r := range reviews {
		total += r.Score
	}
	return strconv.FormatFloat(float64(total)/float64(len(reviews)), 'f', 1, 64)
}

// ReviewService stores reviews.
type ReviewService interface {
	// SaveReview stores the reviewer's review of the applicant, replacing their earlier one.
	SaveReview(ctx context.Context, r *Review) error
	// ListReviews returns the applicant's reviews, oldest first.
	ListReviews(ctx context.Context, orgID, applicantID string) ([]*Review, error)
}
