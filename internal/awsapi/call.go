package awsapi

import (
	"errors"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
)

// DecodeJSON reads the JSON 1.1 body into v, answering malformed input the
// way the JSON protocol does (SerializationException, or PayloadTooLarge
// over protocol.MaxJSONBody).
func (c *Call) DecodeJSON(v any) error {
	if err := protocol.DecodeJSON(c.Body, v); err != nil {
		if errors.Is(err, protocol.ErrBodyTooLarge) {
			return apierr.New(apierr.PayloadTooLarge, "%s", err.Error())
		}
		return apierr.New(apierr.SerializationException, "%s", strings.TrimPrefix(err.Error(), protocol.ErrSerialization.Error()+": "))
	}
	return nil
}
