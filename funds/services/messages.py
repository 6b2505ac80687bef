"""What a refused write says: the same words whether the refusal meets a form or a row of an Excel file."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from funds.money import yuan_text

# 资金下达 ------------------------------------------------------------------------------------------

SPLIT_OF_SPLIT = _("已分配到乡镇的资金不能再分配")


def split_over_remainder(left: Decimal) -> str:
    """A new split larger than what is left of the county's allocation."""
    return _("分配金额超出该笔资金的剩余可分配金额（剩余 %(left)s 元）") % {"left": yuan_text(left)}


def split_over_parent(left: Decimal) -> str:
    """A split raised beyond what is left of the county's allocation."""
    return _("分配金额超出县级资金的剩余可分配金额（剩余 %(left)s 元）") % {"left": yuan_text(left)}


def allocation_below_used(used: Decimal) -> str:
    return _("金额不能少于已分配到乡镇和已安排到项目的 %(used)s 元") % {"used": yuan_text(used)}


# 资金安排 ------------------------------------------------------------------------------------------

NOT_IN_LIBRARY = _("项目尚未入库，不能安排资金（只有入库项目才能安排衔接资金）")


def funding_wrong_source(source: str, target: str) -> str:
    return _("该笔资金下达到%(source)s，不能安排给%(target)s的项目") % {"source": source, "target": target}


def funding_over_remainder(left: Decimal) -> str:
    """A new funding line larger than what is left of its allocation."""
    return _("安排金额超出该笔资金的剩余可安排金额（剩余 %(left)s 元）") % {"left": yuan_text(left)}


def funding_over_most(most: Decimal) -> str:
    """A funding line raised beyond what its allocation can give it."""
    return _("安排金额超出该笔资金可安排的金额（最多可安排 %(most)s 元）") % {"most": yuan_text(most)}


def funding_below_paid(paid: Decimal) -> str:
    return _("安排金额不能少于已支付的 %(paid)s 元") % {"paid": yuan_text(paid)}


# 支付 ----------------------------------------------------------------------------------------------


def payment_over_unpaid(left: Decimal) -> str:
    """A new payment larger than what is left unpaid on its funding line."""
    return _("支付金额超出该项资金安排的未支付金额（未支付 %(left)s 元）") % {"left": yuan_text(left)}


def payment_over_most(most: Decimal) -> str:
    """A payment raised beyond what its funding line can pay."""
    return _("支付金额超出该项资金安排可支付的金额（最多可支付 %(most)s 元）") % {"most": yuan_text(most)}


def not_after_today(label: str) -> str:
    return _("%(label)s不能晚于今天") % {"label": label}


# 项目库 --------------------------------------------------------------------------------------------

NO_LINKAGE = _("产业发展项目须写明联农带农机制，方可入库（没有联农带农机制的项目不得入库）")
NO_BENEFICIARIES = _("产业发展项目须关联受益农户，方可入库")
BENEFICIARY_OTHER_COUNTY = _("受益农户须是项目所在县的农户")


def project_code_taken(code: str) -> str:
    return _("项目编号“%(code)s”已被使用") % {"code": code}


def project_region_outside_funding(source: str) -> str:
    return _("该项目已安排%(source)s下达的资金，实施区划须在%(source)s范围内") % {"source": source}


def beneficiary_cancelled(number: str) -> str:
    """`number` as the reader may see it (masked by the caller)."""
    return _("户编号 %(number)s 已注销，不能新增为受益农户") % {"number": number}


def entity_not_bound(name: str) -> str:
    return _("“%(name)s”没有企业绑定合作社（双绑）记录，不能作为双绑扶持对象") % {"name": name}


# 村级集体经济 --------------------------------------------------------------------------------------


def quarter_not_begun(year: int, quarter: int) -> str:
    return _("%(year)d年第%(q)d季度尚未开始，不能填报") % {"year": year, "q": quarter}


def income_period(year: int, quarter: int) -> str:
    return f"{year}年第{quarter}季度"


def income_locked(period: str, status: str) -> str:
    """A submitted or approved quarter is not the village's to change (status: 已提交, 已审核)."""
    return _("%(period)s的收入%(status)s，不能修改；如需更正请乡镇退回") % {"period": period, "status": status}
