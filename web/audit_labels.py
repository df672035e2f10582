"""The audit log in words (issue 17: no raw codes in the UI): each event's name and each
detail's label, Chinese by default and English through Babel, and detail values that are
codes (a step, a state, a role, an attachment kind) in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from web.i18n import (
    at_render,
    attachment_label,
    fmt_datetime,
    kind_label,
    role_label,
    state_label,
    trigger_label,
)
from workflow.programme import all_attachment_kinds, kind_def, state_def, transition_def
from workflow.roles import Role

EVENTS: dict[str, Any] = {
    "access_denied": _l("拒绝访问"),
    "account_locked": _l("账号锁定"),
    "account_unlocked": _l("账号解锁"),
    "attachment_uploaded": _l("上传附件"),
    "attestations_confirmed": _l("确认评估条件"),
    "audit_exported": _l("导出审计日志"),
    "authorities_imported": _l("导入主管部门"),
    "authority_activated": _l("启用主管部门"),
    "authority_added": _l("新增主管部门"),
    "authority_changed": _l("修改主管部门"),
    "authority_deactivated": _l("停用主管部门"),
    "authority_deleted": _l("删除主管部门"),
    "bases_imported": _l("导入基地名录"),
    "case_action": _l("办理申报"),
    "case_action_refused": _l("办理被拒绝"),
    "case_assigned": _l("指派申报"),
    "case_claimed": _l("认领申报"),
    "case_report_filed": _l("报送重要信息"),
    "case_unassigned": _l("取消认领"),
    "comment_added": _l("添加意见"),
    "deputy_named": _l("指定代理人"),
    "deputy_period_ended": _l("代理期结束"),
    "draft_created": _l("创建申报草稿"),
    "draft_updated": _l("保存申报草稿"),
    "login_failed": _l("登录失败"),
    "login_succeeded": _l("登录成功"),
    "logout": _l("退出登录"),
    "objection_dismissed": _l("驳回异议"),
    "objection_filed": _l("提出异议"),
    "objection_upheld": _l("异议成立"),
    "password_change_failed": _l("修改密码失败"),
    "password_changed": _l("修改密码"),
    "password_reset": _l("重置密码"),
    "provincial_assessment_submitted": _l("报送定期评估"),
    "recovery_code_used": _l("使用恢复码登录"),
    "recovery_codes_regenerated": _l("重新生成恢复码"),
    "role_changed": _l("变更角色"),
    "round_changed": _l("修改申报批次"),
    "round_closed": _l("关闭申报批次"),
    "round_opened": _l("开放申报批次"),
    "round_planned": _l("计划申报批次"),
    "settings_changed": _l("修改安全设置"),
    "token_created": _l("创建访问令牌"),
    "token_refused": _l("访问令牌被拒绝"),
    "token_revoked": _l("吊销访问令牌"),
    "totp_enrolled": _l("绑定动态口令"),
    "totp_reset": _l("重置动态口令"),
    "user_created": _l("创建账号"),
    "user_disabled": _l("停用账号"),
    "user_enabled": _l("启用账号"),
    "webhook_created": _l("新增回调地址"),
    "webhook_deleted": _l("删除回调地址"),
    "webhook_delivery_retried": _l("重发回调"),
}

DETAILS: dict[str, Any] = {
    "added": _l("新增"), "after": _l("修改后"), "application_id": _l("申报编号"),
    "assignee": _l("办理人账号"), "assignee_name": _l("办理人"),
    "attachment_id": _l("附件编号"), "authority_code": _l("主管部门代码"),
    "before": _l("修改前"), "cancelled": _l("取消的投递"), "changed": _l("修改内容"),
    "comment": _l("意见编号"), "consecutive": _l("连续失败次数"), "created": _l("新建"),
    "delivery_id": _l("投递编号"), "deputy": _l("代理人"), "deputy_id": _l("代理人编号"),
    "ends_on": _l("结束日期"), "error": _l("错误"), "evidence": _l("证明材料"),
    "fields": _l("修改的字段"), "file": _l("文件"), "filename": _l("文件名"),
    "from": _l("原状态"), "history_id": _l("流转记录编号"), "kind": _l("类型"),
    "left": _l("剩余次数"), "login_tokens_revoked": _l("注销的登录令牌"),
    "mentions": _l("提及的人"), "method": _l("请求方法"), "minutes": _l("分钟"),
    "name": _l("名称"), "name_zh": _l("中文名称"), "objection_id": _l("异议编号"),
    "params": _l("参数"), "parent": _l("上级"), "path": _l("访问路径"),
    "period": _l("期间"), "personal_tokens": _l("个人令牌"),
    "personal_tokens_revoked": _l("吊销的个人令牌"), "prefix": _l("令牌前缀"),
    "products": _l("出口产品数"), "programme": _l("专项"),
    "programme_hash": _l("专项定义校验值"), "reason": _l("原因"),
    "recovery_codes": _l("恢复码"), "refusals": _l("拒绝原因"), "region": _l("地区"),
    "region_overridden": _l("地区另行指定"), "report": _l("报送编号"),
    "revision": _l("修订号"), "role": _l("角色"), "round": _l("批次"),
    "scope": _l("权限范围"), "sha256": _l("SHA-256 校验值"), "size": _l("大小（字节）"),
    "starts_on": _l("开始日期"), "suggestions": _l("建议"), "to": _l("新状态"),
    "tokens_revoked": _l("吊销的令牌"), "trigger": _l("操作"), "unchanged": _l("未变"),
    "until": _l("截至"), "updated": _l("更新"), "url": _l("地址"),
    "username": _l("账号"), "values": _l("填写的值"), "version": _l("版本号"),
    "visibility": _l("可见范围"), "was": _l("原来"),
}

RESULTS: dict[str, Any] = {"ok": _l("成功"), "refused": _l("拒绝"), "failed": _l("失败"),
                           "denied": _l("拒绝"), "locked": _l("已锁定")}
OBJECTS: dict[str, Any] = {
    "application": _l("申报"), "user": _l("账号"), "authority": _l("主管部门"),
    "round": _l("申报批次"), "webhook": _l("回调地址"), "token": _l("访问令牌"),
    "objection": _l("异议"), "settings": _l("安全设置"), "base": _l("基地"),
    "provincial_assessment": _l("定期评估"), "deputy": _l("代理"),
    "api_token": _l("访问令牌"), "export_bases": _l("基地名录"), "audit_log": _l("审计日志"),
}


def event_label(code: str) -> str:
    """An audit event's name (an event not listed here: 其他事件, its code in the raw data)."""
    found = EVENTS.get(code)
    return str(found) if found is not None else str(_l("其他事件"))


def detail_label(key: str) -> str:
    found = DETAILS.get(key)
    return str(found) if found is not None else str(key)


def result_label(code: str | None) -> str:
    found = RESULTS.get(code or "")
    return str(found) if found is not None else (code or "—")


def object_label(code: str | None) -> str:
    found = OBJECTS.get(code or "")
    return str(found) if found is not None else (code or "")


def detail_value(key: str, value: Any) -> str:
    """One detail's value in words: a step, state, role or attachment kind by its label,
    yes/no for a flag, a list joined, a nested record as `label: value` pairs."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("是")) if value else str(_l("否"))
    if isinstance(value, dict):
        return "；".join(f"{detail_label(str(k))}：{detail_value(str(k), v)}"
                        for k, v in value.items())
    if isinstance(value, list):
        return "、".join(detail_value(key, v) for v in value) or "—"
    text = str(value)
    if key == "trigger" and transition_def(text) is not None:
        return trigger_label(text)
    if key in ("from", "to") and state_def(text) is not None:
        return state_label(text)
    if key == "role" and text in {r.value for r in Role}:
        return role_label(text)
    if key == "kind" and text in all_attachment_kinds():
        return attachment_label(text)
    if key == "kind" and kind_def(text) is not None:  # an application's kind (新申报, 复核)
        return kind_label(text)
    if key in ("ends_on", "starts_on", "until") and len(text) >= 10:
        return text[:10]
    return text


def init_app(app: Flask) -> None:
    labels: dict[str, Callable[..., Any]] = dict(
        audit_event=event_label, audit_detail=detail_label, audit_value=detail_value,
        audit_result=result_label, audit_object=object_label, audit_time=fmt_datetime)
    app.jinja_env.filters.update({name: at_render(f) for name, f in labels.items()})
