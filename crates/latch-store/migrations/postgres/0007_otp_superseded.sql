-- Digests of the codes a live OTP replaced, so a superseded code is told apart from a wrong
-- guess (and does not count against the live code's attempts).
ALTER TABLE otp_codes ADD COLUMN superseded TEXT NOT NULL DEFAULT '[]';
