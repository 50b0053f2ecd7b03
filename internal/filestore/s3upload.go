package filestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
)

// Files reach S3 through the bucket's own S3 client, part by part through one buffer
// from a pool. The bucket's writer would cost more memory than the file store allows:
// its transfer manager reads the first 16 MiB of every file whole (growing the slice
// as it reads) before it picks one request or a multipart upload, then buffers a
// fresh part per part in flight; one 20 MB upload measured 45 MB of heap that way.
// Here a file smaller than a part is one PutObject; a larger one is a multipart upload
// of partSize parts sent one after the other, which holds one buffer whatever the
// file's size. Reading, listing and removing go through the bucket.

// s3Uploads writes files to the S3 bucket of a bucket URL.
type s3Uploads struct {
	client   *s3.Client
	bucket   string // the S3 bucket's name
	prefix   string // the URL's prefix, which the bucket puts before every key
	sse      types.ServerSideEncryption
	kmsKey   string
	checksum types.ChecksumAlgorithm // as the client's request_checksum_calculation says
}

// failTimeout bounds aborting a failed or discarded multipart upload, which runs even
// when the upload's request has ended.
const failTimeout = 30 * time.Second

// partBuffers are the buffers parts are read into, shared by all uploads.
var partBuffers = sync.Pool{New: func() any { b := make([]byte, partSize); return &b }}

// newS3Uploads returns the writer of S3 uploads for the bucket b, opened from u.
func newS3Uploads(b *blob.Bucket, u *url.URL) (*s3Uploads, error) {
	var client *s3.Client
	if !b.As(&client) {
		return nil, errors.New("the S3 bucket exposes no S3 client")
	}
	q := u.Query()
	s := &s3Uploads{client: client, bucket: u.Host, prefix: q.Get("prefix"),
		sse: types.ServerSideEncryption(q.Get("ssetype")), kmsKey: q.Get("kmskeyid")}
	// With checksums (the default), every part carries a CRC32 and the upload says
	// so when it begins, as the SDK's transfer manager does; without them
	// (request_checksum_calculation=when_required, for S3-compatible stores that
	// refuse them), neither does.
	if client.Options().RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired {
		s.checksum = types.ChecksumAlgorithmCrc32
	}
	return s, nil
}

// s3Writer is one upload to S3 in flight: what is written goes through a pipe to the
// goroutine that sends it. Closing the pipe finishes the object; closing it with an
// error abandons it.
type s3Writer struct {
	pw   *io.PipeWriter
	done chan struct{}
	err  error // the upload's outcome, once done is closed
}

// start begins the upload of key and returns its writer. The upload ends with ctx.
func (s *s3Uploads) start(ctx context.Context, key, contentType string) *s3Writer {
	pr, pw := io.Pipe()
	w := &s3Writer{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		if err := s.upload(ctx, s.prefix+key, contentType, pr); err != nil {
			w.err = err
			pr.CloseWithError(err) // a writer still writing learns of it
		}
	}()
	return w
}

// upload sends what r holds to S3 as the object key: in one request when it fits in
// one part, else as a multipart upload, aborted if anything fails.
func (s *s3Uploads) upload(ctx context.Context, key, contentType string, r io.Reader) error {
	bp := partBuffers.Get().(*[]byte)
	defer partBuffers.Put(bp)
	buf := *bp
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
			ContentType: aws.String(contentType), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			ChecksumAlgorithm: s.checksum, ServerSideEncryption: s.sse, SSEKMSKeyId: s.kmsKeyID()})
		if err != nil {
			return fmt.Errorf("put object: %w", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket),
		Key: aws.String(key), ContentType: aws.String(contentType), ChecksumAlgorithm: s.checksum,
		ServerSideEncryption: s.sse, SSEKMSKeyId: s.kmsKeyID()})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	if err := s.sendParts(ctx, key, created.UploadId, r, buf, n); err != nil {
		abort, cancel := context.WithTimeout(context.WithoutCancel(ctx), failTimeout)
		defer cancel()
		if _, aerr := s.client.AbortMultipartUpload(abort, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket),
			Key: aws.String(key), UploadId: created.UploadId}); aerr != nil {
			err = errors.Join(err, fmt.Errorf("abort multipart upload: %w", aerr))
		}
		return err
	}
	return nil
}

// sendParts sends the first n bytes of buf, then the rest of r through buf, as the
// parts of the multipart upload id, and completes it.
func (s *s3Uploads) sendParts(ctx context.Context, key string, id *string, r io.Reader, buf []byte, n int) error {
	var parts []types.CompletedPart
	for number := int32(1); ; number++ {
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
			UploadId: id, PartNumber: aws.Int32(number), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			ChecksumAlgorithm: s.checksum})
		if err != nil {
			return fmt.Errorf("upload part %d: %w", number, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(number), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
		n, err = io.ReadFull(r, buf)
		if n == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return err
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(s.bucket),
		Key: aws.String(key), UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

func (s *s3Uploads) kmsKeyID() *string {
	if s.kmsKey == "" {
		return nil
	}
	return aws.String(s.kmsKey)
}

// Write sends p on to the upload; it fails once the upload has.
func (w *s3Writer) Write(p []byte) (int, error) { return w.pw.Write(p) }

// finish ends the upload and waits for its outcome: the object is complete when it
// returns nil.
func (w *s3Writer) finish() error {
	w.pw.Close()
	<-w.done
	if w.err != nil {
		return fmt.Errorf("upload to s3: %w", w.err)
	}
	return nil
}

// errDiscarded ends an upload that is not wanted.
var errDiscarded = errors.New("upload discarded")

// abandon ends the upload without an object and waits until what was sent of it is
// aborted.
func (w *s3Writer) abandon() {
	w.pw.CloseWithError(errDiscarded)
	<-w.done
}
