package parts

import "fmt"

// Code is a 16-digit component identification code held as a number:
// 6 county + 2 major class + 2 minor class + 6 serial. The zero Code is
// invalid. Codes sort in their textual order.
type Code uint64

const maxCode = 9999999999999999

// ParseCode parses and validates a 16-digit code. The error is a *CodeError
// that names the part of the code that is wrong.
func ParseCode(s string) (Code, error) {
	if len(s) != 16 {
		return 0, &CodeError{Input: s, Field: "length", Reason: fmt.Sprintf("want 16 digits, got %d characters", len(s))}
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, &CodeError{Input: s, Field: "digits", Reason: fmt.Sprintf("character %d is %q, not a digit", i+1, c)}
		}
		v = v*10 + uint64(c-'0')
	}
	c := Code(v)
	if err := c.validate(s); err != nil {
		return 0, err
	}
	return c, nil
}

// NewCode builds a code from its parts: a 6-digit county, a class and a serial.
func NewCode(county uint32, class Class, serial uint32) (Code, error) {
	c := Code(uint64(county)*1e10 + uint64(class)*1e6 + uint64(serial))
	in := fmt.Sprintf("%06d+%04d+%06d", county, class, serial)
	if county > 999999 || serial > 999999 || class > 9999 {
		return 0, &CodeError{Input: in, Field: "length", Reason: "a part has too many digits"}
	}
	return c, c.validate(in)
}

func (c Code) validate(in string) error {
	switch {
	case c.County() < 110000:
		return &CodeError{Input: in, Field: "county", Reason: fmt.Sprintf("county %06d is not a GB/T 2260 code (11xxxx-82xxxx)", c.County())}
	case c.County() > 829999:
		return &CodeError{Input: in, Field: "county", Reason: fmt.Sprintf("county %06d is not a GB/T 2260 code (11xxxx-82xxxx)", c.County())}
	case c.Class().Major() < 1 || c.Class().Major() > 99:
		return &CodeError{Input: in, Field: "major", Reason: fmt.Sprintf("major class %02d is not 01-99", c.Class().Major())}
	case c.Class()%100 == 0:
		return &CodeError{Input: in, Field: "minor", Reason: "minor class 00 is not a class"}
	case c.Serial() == 0:
		return &CodeError{Input: in, Field: "serial", Reason: "serial 000000 is not allowed"}
	}
	return nil
}

// County returns the 6-digit GB/T 2260 county (district) code.
func (c Code) County() uint32 { return uint32(uint64(c) / 1e10) }

// Class returns the 4-digit minor class (major*100+minor).
func (c Code) Class() Class { return Class(uint64(c) / 1e6 % 1e4) }

// Serial returns the 6-digit serial number.
func (c Code) Serial() uint32 { return uint32(uint64(c) % 1e6) }

// String formats the code as its 16 digits.
func (c Code) String() string {
	var b [16]byte
	c.Digits(&b)
	return string(b[:])
}

// Digits writes the 16 digits of c into b, two at a time: String without
// the allocation, for encoders on hot paths.
func (c Code) Digits(b *[16]byte) {
	v := uint64(c)
	for i := 14; i >= 0; i -= 2 {
		d := v % 100 * 2
		v /= 100
		b[i], b[i+1] = digitPairs[d], digitPairs[d+1]
	}
}

// AppendDigits appends the 16 digits of c to dst.
func (c Code) AppendDigits(dst []byte) []byte {
	var b [16]byte
	c.Digits(&b)
	return append(dst, b[:]...)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// MarshalText implements encoding.TextMarshaler.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseCode.
func (c *Code) UnmarshalText(b []byte) error {
	v, err := ParseCode(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
