-- A copied (neutralized) database must never talk to the real Exact Online with the
-- production consent: forget the tokens and the pending consent request.
UPDATE exact_connection
   SET access_token = NULL,
       refresh_token = NULL,
       oauth_nonce = NULL,
       token_expires_at = 0,
       token_obtained_at = 0,
       state = 'draft';
