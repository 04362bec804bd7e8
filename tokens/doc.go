// Package tokens issues and checks API tokens: random secrets of the form
// "ct_" + 43 base64url characters (32 bytes from crypto/rand), of which only
// the SHA-256 hash is ever stored, together with the role and department
// they grant. It knows nothing of HTTP: the api package reads the bearer
// token from a request and asks a Verifier what it grants.
package tokens
