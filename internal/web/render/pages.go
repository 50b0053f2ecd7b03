package render

// Page names one page template, templates/pages/NAME.html. Handlers render only the
// pages declared here (Page's field is unexported, so no other value exists), and New
// fails unless every one of them parses: a missing template stops the start, never a
// request.
type Page struct{ name string }

// Name is the page's template name.
func (p Page) Name() string { return p.name }

// The pages. Those named candidate_* use the candidate layout.
var (
	PageApplicant             = Page{"applicant"}
	PageApplicants            = Page{"applicants"}
	PageCandidateError        = Page{"candidate_error"}
	PageCandidateHomework     = Page{"candidate_homework"}
	PageCandidateLanding      = Page{"candidate_landing"}
	PageCandidateOptout       = Page{"candidate_optout"}
	PageCandidateQuestions    = Page{"candidate_questions"}
	PageCandidateReview       = Page{"candidate_review"}
	PageCandidateStatus       = Page{"candidate_status"}
	PageCandidateVideo        = Page{"candidate_video"}
	PageError                 = Page{"error"}
	PageInviteAccept          = Page{"invite_accept"}
	PageJob                   = Page{"job"}
	PageJobEdit               = Page{"job_edit"}
	PageJobIntegrations       = Page{"job_integrations"}
	PageJobNew                = Page{"job_new"}
	PageJobPreview            = Page{"job_preview"}
	PageJobs                  = Page{"jobs"}
	PageLogin                 = Page{"login"}
	PageMail                  = Page{"mail"}
	PageMailMessage           = Page{"mail_message"}
	PageReviewQueue           = Page{"review_queue"}
	PageSettingsIntegrations  = Page{"settings_integrations"}
	PageSettingsMembers       = Page{"settings_members"}
	PageSettingsTemplates     = Page{"settings_templates"}
	PageSettingsTemplatesEdit = Page{"settings_templates_edit"}
	PageSettingsTemplatesJob  = Page{"settings_templates_job"}
	PageSettingsTokens        = Page{"settings_tokens"}
)

// pages lists every declared page, for New to check.
var pages = []Page{PageApplicant, PageApplicants, PageCandidateError, PageCandidateHomework, PageCandidateLanding, PageCandidateOptout, PageCandidateQuestions, PageCandidateReview, PageCandidateStatus, PageCandidateVideo, PageError, PageInviteAccept, PageJob, PageJobEdit, PageJobIntegrations, PageJobNew, PageJobPreview, PageJobs, PageLogin, PageMail, PageMailMessage, PageReviewQueue, PageSettingsIntegrations, PageSettingsMembers, PageSettingsTemplates, PageSettingsTemplatesEdit, PageSettingsTemplatesJob, PageSettingsTokens}
