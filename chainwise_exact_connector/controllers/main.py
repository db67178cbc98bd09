import logging

from odoo import http
from odoo.http import request

from .. import exact

_logger = logging.getLogger(__name__)


class ExactOAuthController(http.Controller):
    """Exact's consent page sends the browser back here with ``code`` and ``state``.

    GET requests skip Odoo's CSRF check, so the signed single-use ``state`` is the
    guard: administrator, existing record, HMAC equal (constant time), nonce pending.
    Business logic stays in ``exact.connection._oauth_callback``."""

    @http.route("/chainwise_exact/oauth/callback", type="http", auth="user", methods=["GET"])
    def exact_oauth_callback(self, code=None, state=None, error=None, error_description=None, **kw):
        env = request.env
        if not env.user.has_group("base.group_system"):
            _logger.warning(
                "Exact OAuth callback refused: user %s is not an administrator", env.user.id
            )
            return self._page(
                env._("Only an administrator can connect Odoo to Exact Online."),
                env._('Ask an administrator to click "Connect to Exact" on the connection.'),
                status=403,
            )
        # sudo: the connection may belong to a company that is not selected in this
        # browser session; the signed single-use state and the group check above are
        # what authorises this request.
        connection = env["exact.connection"].sudo()._check_oauth_state(state)
        if not connection:
            _logger.warning("Exact OAuth callback refused: invalid or reused state")
            return self._page(
                env._(
                    "This answer from Exact does not belong to a connection request of "
                    "this database, or it was used already."
                ),
                env._('Open the connection in Odoo and click "Connect to Exact" again.'),
                status=403,
            )
        if error or not code:
            if error == "access_denied":
                what = env._("The consent was refused on Exact's page, so nothing is stored.")
            else:
                what = env._(
                    "Exact did not give consent (%(error)s), so nothing is stored.",
                    error=error or env._("no authorization code"),
                )
            return self._page(
                what,
                env._(
                    'Click "Connect to Exact" again and approve the access with an Exact '
                    "user who can reach your administrations."
                ),
                connection=connection,
                status=400,
            )
        try:
            connection._oauth_callback(code)
        except exact.ExactError as exc:
            _logger.info(
                "Exact OAuth callback for connection %s failed: %s", connection.id, exc.message
            )
            return self._page(
                env._("Exact refused the connection: %(error)s", error=exc.message),
                env._(
                    "Authorization codes are valid for a few minutes and only once: click "
                    '"Connect to Exact" again. If it keeps failing, check the Client ID, '
                    "Client Secret and that the redirect URI in Exact's App Center is "
                    "exactly %(uri)s.",
                    uri=connection.redirect_uri,
                ),
                connection=connection,
                status=400,
            )
        return request.redirect(f"/odoo/exact.connection/{connection.id}")

    def _page(self, message, advice, connection=None, status=400):
        return request.render(
            "chainwise_exact_connector.exact_oauth_error",
            {
                "message": message,
                "advice": advice,
                "back_url": f"/odoo/exact.connection/{connection.id}" if connection else "/odoo",
            },
            status=status,
        )
