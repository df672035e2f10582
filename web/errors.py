"""Error pages of the web UI (the API answers RFC 9457 problems: web/api/errors.py): every
400, 403, 404, 405, 413, 429 and 500 in the app's layout and the user's language, saying
what happened and how to go on — never Werkzeug's bare English page. A form whose CSRF
token has expired (the session ended) says so and how to continue."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def _words(status: int) -> tuple[str, str]:
    """(title, what to do) for a status, in the user's language."""
    return {
        400: (_("请求无效"), _("提交的内容无法处理，请返回上一页检查后重试。")),
        401: (_("请先登录"), _("请登录后继续。")),
        403: (_("无权访问"), _("您的角色不能访问此页面。")),
        404: (_("未找到"), _("该页面不存在，或您无权查看。")),
        405: (_("不支持该操作"), _("请从页面上的按钮或链接进入。")),
        413: (_("上传的文件过大"), _("请压缩或拆分文件后重新上传。")),
        429: (_("操作过于频繁"), _("请稍后再试。")),
    }.get(status, (_("系统出错"), _("已记录此错误，请稍后重试；如需联系管理员，请提供下方的请求编号。")))


def page(status: int, message: str | None = None, title: str | None = None,
         go_on: tuple[str, str] | None = None) -> Any:
    """The error page; `go_on` is (link, words) of the way to continue, if there is one."""
    default_title, default_message = _words(status)
    return render_template("error.html", status=status, title=title or default_title,
                           message=message or default_message, go_on=go_on,
                           request_id=g.get("request_id")), status


def init_app(app: Flask) -> None:
    from web.api.errors import http_problem
    from web.auth import current_user, return_to

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> Any:
        if request.path.startswith("/api/"):
            return http_problem(err)
        back = return_to()
        go_on = ((back, _("回到原来的页面")) if current_user() is not None else
                 (url_for("auth.login", next=back), _("重新登录并回到原来的页面")))
        return page(400, title=_("页面已过期"), message=_(
            "为保护您的账户，表单只能在登录有效期内提交，而这一页已经过期（例如长时间未操作后会话结束）。"
            "本次提交没有保存，但您填写的内容已保存在本浏览器中：重新登录回到原来的页面后，"
            "点“恢复未保存的内容”即可继续。"), go_on=go_on)

    @app.errorhandler(HTTPException)  # (replaces the API's own handler: problems for /api/)
    def _http(err: HTTPException) -> Any:
        if err.code is None or err.code < 400:
            return err
        if request.path.startswith("/api/"):
            return http_problem(err)
        return page(err.code)


def internal_error_page() -> Any:
    """The 500 page (the API's crash handler calls this for web paths)."""
    return page(500)
