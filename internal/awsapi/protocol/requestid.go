package protocol

import "github.com/berth-dev/berth/internal/uuid"

// NewRequestID returns a random (version 4) UUID for x-amzn-RequestId.
func NewRequestID() string { return uuid.New() }
