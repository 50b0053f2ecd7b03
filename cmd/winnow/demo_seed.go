package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"winnow"
	"winnow/internal/leversandbox"
	"winnow/internal/password"
)

// What the demo seeds. The admin's email is the sandbox's Super Admin's, so the notes
// Winnow writes in Lever are by her; the job is titled as the sandbox posting it is
// linked to in the walkthrough.
const (
	demoOrg        = "Acme"
	demoAdminName  = "Ada Admin"
	demoAdminEmail = "ada@example.com"
	demoJobTitle   = "Backend Engineer"
)

// seed creates what is missing of the org, the admin and the sample job, so a run
// that stopped half-way through seeding completes it the next time.
func (d *demo) seed(ctx context.Context) error {
	store := d.Main.Store
	pw, err := demoSecret(filepath.Join(d.Dir, demoPasswordFile), 9)
	if err != nil {
		return err
	}
	d.Password = pw
	admin, err := store.FindUserByEmail(ctx, demoAdminEmail)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		hash, herr := password.Hash(pw)
		if herr != nil {
			return herr
		}
		admin, _, _, err = createUser(ctx, store, demoOrg, &winnow.User{Email: demoAdminEmail, Name: demoAdminName,
			Role: winnow.RoleAdmin, PasswordHash: hash})
	}
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	// The password printed must sign in: an admin whose password file was lost or
	// edited would otherwise be locked out with no word why.
	if err := password.Check(admin.PasswordHash, pw); err != nil {
		return fmt.Errorf("the password in %s does not sign %s in (the file was changed or replaced): start over with --reset",
			filepath.Join(d.Dir, demoPasswordFile), demoAdminEmail)
	}
	d.Admin = admin
	// The sample job is found by the ID kept in the data folder, so one renamed or
	// edited in the meantime is the one the walkthrough names, not a second copy.
	jobFile := filepath.Join(d.Dir, demoJobFile)
	if id, err := os.ReadFile(jobFile); err == nil {
		f, err := store.FindFunnelByID(ctx, admin.OrgID, strings.TrimSpace(string(id)))
		if err != nil && winnow.ErrorCode(err) != winnow.ENOTFOUND {
			return err
		}
		d.Funnel = f
	}
	if d.Funnel == nil {
		d.Funnel = demoJob(admin)
		if err := store.CreateFunnel(ctx, d.Funnel); err != nil {
			return fmt.Errorf("sample job: %w", err)
		}
		if err := os.WriteFile(jobFile, []byte(d.Funnel.ID+"\n"), 0o644); err != nil {
			return fmt.Errorf("sample job: %w", err)
		}
	}
	id, ok := d.Sandbox.PostingID(demoJobTitle)
	if !ok {
		if id, err = d.Sandbox.CreatePosting(leversandbox.PostingInput{Text: demoJobTitle, Team: "Engineering", Location: "Berlin"}); err != nil {
			return fmt.Errorf("sandbox posting: %w", err)
		}
	}
	d.Posting = id
	return nil
}

// demoJob is the sample job: one step of each kind, the questions with a knockout, on
// the admin's team, moving qualified candidates to the sandbox's "On-site interview".
func demoJob(admin *winnow.User) *winnow.Funnel {
	return &winnow.Funnel{OrgID: admin.OrgID, Title: demoJobTitle, Status: winnow.FunnelOpen, Team: []string{admin.ID},
		Description:      "Build and run the services behind our product, in Berlin or remote within the EU.",
		QualifiedStageID: leversandbox.StageOnSite,
		Steps: []winnow.Step{
			{Kind: winnow.StepQuestions, Title: "A few questions", Questions: []winnow.Question{
				{Text: "Can you work in the EU?", Type: winnow.QuestionYesNo, Required: true,
					Knockout: &winnow.Knockout{Answer: "yes", Reason: "Requires the right to work in the EU"}},
				{Text: "How many years have you written Go?", Type: winnow.QuestionNumber, Required: true},
			}},
			{Kind: winnow.StepHomework, Title: "Homework", Homework: &winnow.Homework{
				Instructions: "In a few sentences: how would you find out why a web service got slow since yesterday?",
				AcceptText:   true, AcceptFile: true, MaxFileBytes: 10 << 20, FileTypes: []string{".pdf", ".md", ".txt"}}},
			{Kind: winnow.StepVideo, Title: "Video interview", Video: &winnow.Video{
				Prompts: []string{"Tell us about a bug you were proud to fix."}, MaxSeconds: 120}},
		}}
}

// walkthrough prints where everything is and the steps of the loop.
func (d *demo) walkthrough(w io.Writer) {
	base, sb := d.BaseURL(), d.SandboxURL()
	again := "First run: the data folder was created."
	if d.Reused {
		again = "Reusing the data of an earlier run (--reset starts over)."
	}
	fmt.Fprintf(w, `Winnow demo is running. %[9]s

  Winnow         %[1]s
  Lever sandbox  %[2]s  (a stand-in for Lever; its state is kept in the data folder too)
  Data folder    %[3]s

Sign in as %[4]s: email %[5]s, password %[6]s

1. Sign in at %[1]s/login with the email and password above.
2. Connect Lever: open %[1]s/settings/integrations and click "Connect Lever";
   on the sandbox's consent page click "Accept". You are back on the panel: Connected.
3. Link the job: open %[1]s/jobs/%[7]s/integrations,
   choose the posting "%[10]s" and click "Link this posting".
   (The sample job moves qualified candidates to the stage "On-site interview".)
4. Apply as a candidate in the sandbox: open %[2]s/ui/postings/%[8]s,
   fill in "Full name" and "Email" (any address: nothing is sent) and click
   "Submit application". Keep that tab: it is the candidate's opportunity in Lever.
5. Open the invitation in the mail viewer, %[1]s/settings/mail
   (no email leaves this machine; reload if it is not there yet): click
   "%[11]s" and open the link in its text
   (candidates need no account: any browser tab will do).
6. Complete the funnel as the candidate: "Start", answer the questions ("No" to
   "Can you work in the EU?" ends the application: that is the knockout), write the
   homework, record the video in the browser or upload any video file, clicking
   "Save and continue" after each step, then "Submit my application".
7. Review and decide: open %[1]s/jobs/%[7]s/review, click "Review",
   choose a score and click "Save review", then "Mark qualified…" and "Confirm: qualified". Review is blind:
   the card says "Applicant #…" instead of the name until you decide.
8. Watch Lever: reload the opportunity page in the sandbox (all of them are at
   %[2]s/ui/opportunities). After step 4 it is tagged CP-Sent, once the
   candidate starts CP-InProg, after step 7 CP-Qual and in the stage "On-site interview",
   with a note from Winnow at each change.

Press Ctrl-C to stop; run the same command again to carry on where you left off.
`, base, sb, d.Dir, demoAdminName, demoAdminEmail, d.Password, d.Funnel.ID, d.Posting, again, demoJobTitle, "Your application for "+demoJobTitle+" at "+demoOrg)
}
