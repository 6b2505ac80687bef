"""A county keeps its own 风险类型 and 帮扶措施 beside the province's: the model's rules, the county
administrator's page, and what each county's users are offered and may choose (forms, import, API)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from households import reference_lists
from households.forms import HouseholdFilterForm, MonitoringCaseForm
from households.models import AssistanceMeasure, Household, MonitoringCase, RiskType
from households.reference_lists import LISTS
from households.selectors import risk_type_choices, risk_types_for_filter, villages_for_filter
from households.services import monitoring_case_register, monitoring_case_update
from regions.models import AuditEvent, AuditKind, Level, Region, Role, User
from tests.api.writing import make_writer, send
from tests.conftest import Staff
from tests.factories import Tree, household, make_user
from workbooks.batches import import_batch_check, import_batch_create
from workbooks.models import ImportStatus

RISKS = LISTS["risk-types"]


@pytest.fixture
def county_b(tree: Tree) -> Region:
    return Region.objects.create(code="532301000000", name="楚雄市", level=Level.COUNTY, parent=tree.prefecture)


@pytest.fixture
def admin_b(county_b: Region) -> User:
    return make_user("shiadmin", Role.COUNTY_ADMIN, county_b)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add(by: User, name: str, reference_list: Any = RISKS) -> Any:
    county = by.region
    assert county is not None
    return reference_lists.reference_item_add(by=by, county=county, reference_list=reference_list, name=name)


def lifted(staff: Staff, tree: Tree) -> Household:
    return household(staff.village_clerk, tree.village_a1)


# --- the model's rules ---------------------------------------------------------------------------------


def test_migrated_entries_are_province_wide_and_active(db: None) -> None:
    assert RiskType.objects.filter(region__isnull=False).count() == 0
    assert RiskType.objects.get(code="illness").is_active
    assert AssistanceMeasure.objects.filter(region__isnull=True).count() == 12


def test_the_database_refuses_a_second_province_wide_or_county_entry_of_one_name(tree: Tree) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskType.objects.create(code="illness2", name="因病")
    RiskType.objects.create(code="c1", name="因旱", region=tree.county)
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskType.objects.create(code="c2", name="因旱", region=tree.county)


def test_a_county_name_may_not_shadow_a_province_wide_one_but_two_counties_may_share_one(
    tree: Tree, county_b: Region
) -> None:
    with pytest.raises(ValidationError) as refused:
        RiskType(code="c1", name="因病", region=tree.county).full_clean()
    assert refused.value.message_dict["name"] == ["风险类型名称“因病”已存在"]
    RiskType.objects.create(code="c1", name="因旱", region=tree.county)
    RiskType(code="c2", name="因旱", region=county_b).full_clean()
    with pytest.raises(ValidationError) as province:
        RiskType(code="p1", name="因旱").full_clean()
    assert "name" in province.value.message_dict


def test_an_entry_belongs_to_a_county_not_a_township(tree: Tree) -> None:
    with pytest.raises(ValidationError) as refused:
        RiskType(code="t1", name="因旱", region=tree.township_a).full_clean()
    assert "region" in refused.value.message_dict


# --- the county administrator's page --------------------------------------------------------------------


def test_the_page_shows_the_province_entries_read_only_and_the_county_own_editable(staff: Staff) -> None:
    own = add(staff.county_admin, "因旱")
    page = client_for(staff.county_admin).get(reverse("reference_list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "全省统一" in text and "因病" in text and "因旱" in text and "帮扶措施" in text
    assert reverse("reference_edit", args=["risk-types", own.pk]) in text
    province = RiskType.objects.get(code="illness")
    assert reverse("reference_edit", args=["risk-types", province.pk]) not in text
    assert (
        client_for(staff.county_admin).get(reverse("reference_edit", args=["risk-types", province.pk])).status_code
        == 404
    )


def test_the_menu_links_the_page_for_county_administrators_only(staff: Staff) -> None:
    assert reverse("reference_list") in client_for(staff.county_admin).get(reverse("threshold_list")).content.decode()
    assert (
        reverse("reference_list") not in client_for(staff.county_viewer).get(reverse("household_list")).content.decode()
    )


@pytest.mark.parametrize("role", ["village_clerk", "township_admin", "county_viewer", "city_viewer", "superuser"])
def test_other_roles_get_404(staff: Staff, role: str) -> None:
    client = client_for(getattr(staff, role))
    assert client.get(reverse("reference_list")).status_code == 404
    assert client.get(reverse("reference_create", args=["risk-types"])).status_code == 404


def test_another_county_admin_gets_404_for_this_county_entry(staff: Staff, admin_b: User) -> None:
    own = add(staff.county_admin, "因旱")
    client = client_for(admin_b)
    assert "因旱" not in client.get(reverse("reference_list")).content.decode()
    assert client.get(reverse("reference_edit", args=["risk-types", own.pk])).status_code == 404
    active = reverse("reference_set_active", args=["risk-types", own.pk])
    assert client.post(active, {"version": own.version, "active": "0"}).status_code == 404
    assert client.get(reverse("reference_create", args=["nonsense"])).status_code == 404
    own.refresh_from_db()
    assert own.is_active


def test_add_rename_deactivate_and_reactivate_round_trip_is_audited(staff: Staff) -> None:
    client = client_for(staff.county_admin)
    response = client.post(reverse("reference_create", args=["measures"]), {"name": "光伏收益帮扶"})
    assert response.status_code == 302
    measure = AssistanceMeasure.objects.get(name="光伏收益帮扶")
    assert measure.region == staff.county_admin.region and measure.code == "532326_1" and measure.is_active
    edit = reverse("reference_edit", args=["measures", measure.pk])
    assert client.post(edit, {"name": "光伏帮扶", "version": measure.version}).status_code == 302
    measure.refresh_from_db()
    assert measure.name == "光伏帮扶" and measure.version == 2
    active = reverse("reference_set_active", args=["measures", measure.pk])
    assert client.post(active, {"version": 2, "active": "0"}).status_code == 302
    measure.refresh_from_db()
    assert not measure.is_active
    assert client.post(active, {"version": 3, "active": "1"}).status_code == 302
    measure.refresh_from_db()
    assert measure.is_active and AssistanceMeasure.objects.filter(name__startswith="光伏").count() == 1
    details = list(
        AuditEvent.objects.filter(kind=AuditKind.REFERENCE_CHANGED).order_by("pk").values_list("detail", flat=True)
    )
    assert details == [
        "大姚县新增“光伏收益帮扶”（532326_1）",
        "大姚县“光伏收益帮扶”改名为“光伏帮扶”",
        "大姚县停用“光伏帮扶”",
        "大姚县启用“光伏帮扶”",
    ]
    assert measure.history.count() == 4
    assert measure.history.first().history_user == staff.county_admin


def test_a_name_is_refused_in_chinese_naming_the_field(staff: Staff) -> None:
    client = client_for(staff.county_admin)
    shadow = client.post(reverse("reference_create", args=["risk-types"]), {"name": "因病"})
    assert shadow.context["form"].errors["name"] == ["风险类型名称“因病”已存在"]
    empty = client.post(reverse("reference_create", args=["risk-types"]), {"name": " "})
    assert empty.context["form"].errors["name"] == ["请填写风险类型名称"]
    long = client.post(reverse("reference_create", args=["risk-types"]), {"name": "旱" * 33})
    assert long.context["form"].errors["name"] == ["风险类型名称不能超过32个字"]
    assert not RiskType.objects.filter(region__isnull=False).exists()


@pytest.mark.parametrize(
    ("typed", "existing", "reference_list"),
    [
        ("因 病", "因病", RISKS),  # a space inside a province-wide name
        ("因\u3000病", "因病", RISKS),  # an ideographic space
        ("因\u00a0病", "因病", RISKS),  # a no-break space pasted from a document
        ("金融帮扶(小额信贷)", "金融帮扶（小额信贷）", LISTS["measures"]),  # half-width brackets
        ("ＩＬＬ", "ILL", RISKS),  # full-width letters against the county's own
        ("ill", "ILL", RISKS),  # letter case
    ],
)
def test_a_name_that_reads_like_an_existing_one_is_refused_naming_that_one(
    staff: Staff, typed: str, existing: str, reference_list: Any
) -> None:
    add(staff.county_admin, "ILL")
    client = client_for(staff.county_admin)
    refused = client.post(reverse("reference_create", args=[reference_list.slug]), {"name": typed})
    assert refused.status_code == 200
    assert refused.context["form"].errors["name"] == [f"{reference_list.label}名称“{existing}”已存在"]
    assert not reference_list.model.objects.filter(name=typed).exists()


def test_a_rename_onto_a_name_that_reads_like_another_is_refused_and_spaces_are_tidied(staff: Staff) -> None:
    own = add(staff.county_admin, "因旱")
    with pytest.raises(ValidationError) as refused:
        reference_lists.reference_item_rename(
            by=staff.county_admin, item=own, reference_list=RISKS, name="因 病", expected_version=own.version
        )
    assert refused.value.message_dict["name"] == ["风险类型名称“因病”已存在"]
    spaced = add(staff.county_admin, "因  冰雹\u3000灾害")
    assert spaced.name == "因 冰雹 灾害"


def test_a_rename_over_a_later_change_is_refused_not_overwritten(staff: Staff) -> None:
    own = add(staff.county_admin, "因旱")
    edit = reverse("reference_edit", args=["risk-types", own.pk])
    first, second = client_for(staff.county_admin), client_for(staff.county_admin)
    assert first.post(edit, {"name": "因干旱", "version": 1}).status_code == 302
    stale = second.post(edit, {"name": "因旱灾", "version": 1})
    assert stale.status_code == 200
    assert "该记录已被他人修改" in stale.content.decode()
    own.refresh_from_db()
    assert own.name == "因干旱"
    active = reverse("reference_set_active", args=["risk-types", own.pk])
    second.post(active, {"version": 1, "active": "0"})
    own.refresh_from_db()
    assert own.is_active


# --- what each county's users are offered ----------------------------------------------------------------


def test_the_case_form_offers_the_county_own_active_entries_and_not_another_county(
    staff: Staff, tree: Tree, admin_b: User
) -> None:
    own, stopped, theirs = add(staff.county_admin, "因旱"), add(staff.county_admin, "因冻"), add(admin_b, "因涝")
    reference_lists.reference_item_set_active(
        by=staff.county_admin, item=stopped, reference_list=RISKS, active=False, expected_version=1
    )
    target = lifted(staff, tree)
    form = MonitoringCaseForm(household=target)
    offered = set(form.fields["risk_types"].queryset)  # type: ignore[attr-defined]
    assert own in offered and RiskType.objects.get(code="illness") in offered
    assert stopped not in offered and theirs not in offered
    posted = MonitoringCaseForm(
        {"category": "unstable", "identified_month": "2025-01", "risk_types": [theirs.pk]}, household=target
    )
    assert not posted.is_valid() and "risk_types" in posted.errors
    page = client_for(staff.village_clerk).get(reverse("case_register", args=[target.pk]))
    assert "因旱" in page.content.decode() and "因涝" not in page.content.decode()


def test_the_service_refuses_another_county_entry_and_a_newly_chosen_stopped_one(
    staff: Staff, tree: Tree, admin_b: User
) -> None:
    theirs, own = add(admin_b, "因涝"), add(staff.county_admin, "因旱")
    target = lifted(staff, tree)
    with pytest.raises(ValidationError) as refused:
        monitoring_case_register(
            by=staff.village_clerk,
            household=target,
            category="unstable",
            identified_month=date(2025, 1, 1),
            risk_types=[theirs],
        )
    assert refused.value.message_dict["risk_types"] == ["所选风险类型不存在，请刷新页面后重新选择"]
    assert "因涝" not in str(refused.value)
    case = monitoring_case_register(
        by=staff.village_clerk,
        household=target,
        category="unstable",
        identified_month=date(2025, 1, 1),
        risk_types=[own],
    )
    reference_lists.reference_item_set_active(
        by=staff.county_admin, item=own, reference_list=RISKS, active=False, expected_version=1
    )
    # A case that has it keeps it; a case may not newly take it.
    illness = RiskType.objects.get(code="illness")
    monitoring_case_update(by=staff.village_clerk, case=case, risk_types=[own, illness], measures=[])
    assert set(case.risk_types.all()) == {own, illness}
    other = household(staff.village_clerk, tree.village_a1)
    with pytest.raises(ValidationError) as stopped:
        monitoring_case_register(
            by=staff.village_clerk,
            household=other,
            category="unstable",
            identified_month=date(2025, 1, 1),
            risk_types=[own],
        )
    assert stopped.value.message_dict["risk_types"] == ["风险类型“因旱”已停用，不能新选"]


def case_with_a_stopped_entry(staff: Staff, tree: Tree, name: str) -> Household:
    """A household whose case chose the county's own entry `name`, which was stopped afterwards."""
    own = add(staff.county_admin, name)
    target = lifted(staff, tree)
    monitoring_case_register(
        by=staff.village_clerk,
        household=target,
        category="unstable",
        identified_month=date(2025, 1, 1),
        risk_types=[own],
    )
    reference_lists.reference_item_set_active(
        by=staff.county_admin, item=own, reference_list=RISKS, active=False, expected_version=1
    )
    return target


def test_a_stopped_entry_still_shows_on_the_household_page(staff: Staff, tree: Tree) -> None:
    target = case_with_a_stopped_entry(staff, tree, "因旱")
    page = client_for(staff.village_clerk).get(reverse("household_detail", args=[target.pk]))
    assert "因旱" in page.content.decode()


def test_the_list_filter_offers_the_county_entries_and_goes_stale_on_change(staff: Staff, admin_b: User) -> None:
    assert "因旱" not in dict(risk_type_choices(user=staff.village_clerk)).values()
    own, theirs = add(staff.county_admin, "因旱"), add(admin_b, "因涝")
    names = dict(risk_type_choices(user=staff.village_clerk))
    assert names[own.pk] == "因旱" and theirs.pk not in names
    assert theirs.pk not in dict(risk_type_choices(user=staff.county_admin))
    # Above a county, each county's own entry says whose it is.
    city = dict(risk_type_choices(user=staff.city_viewer))
    assert city[own.pk] == "因旱（大姚县）" and city[theirs.pk] == "因涝（楚雄市）"
    form = HouseholdFilterForm(
        {"risk_type": str(theirs.pk)},
        villages=villages_for_filter(user=staff.village_clerk),
        risk_types=risk_types_for_filter(user=staff.village_clerk),
    )
    assert not form.is_valid() and "risk_type" in form.errors
    listed = client_for(staff.village_clerk).get(reverse("household_list"))
    assert "因旱" in listed.content.decode() and "因涝" not in listed.content.decode()


# --- the roster import and the API ----------------------------------------------------------------------

ROSTER = ["区划代码", "户编号", "户类型", "脱贫年度", "成员姓名", "身份证号", "与户主关系", "劳动技能"]
CASE = ["监测对象类别", "识别时间", "风险类型1"]


def roster(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "花名册"
    sheet.append(ROSTER + CASE)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def case_rows(tree: Tree, number: str, risk: str) -> list[list[Any]]:
    from tests.factories import id_number

    code = tree.village_a1.code
    return [
        [
            code,
            number,
            "脱贫户",
            2019,
            "张三",
            id_number("19700101"),
            "户主",
            "普通劳动力",
            "脱贫不稳定户",
            "2025-01",
            risk,
        ],
        [
            code,
            number,
            "脱贫户",
            2019,
            "李四",
            id_number("19720101"),
            "配偶",
            "普通劳动力",
            "脱贫不稳定户",
            "2025-01",
            risk,
        ],
    ]


def check(user: User, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    batch = import_batch_create(by=user, kind="roster", upload=SimpleUploadedFile("花名册.xlsx", content))
    return import_batch_check(batch_id=batch.pk)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_import_reads_names_in_the_county_own_list(staff: Staff, tree: Tree, admin_b: User, media: None) -> None:
    add(staff.county_admin, "因旱")
    add(admin_b, "因涝")
    stopped = add(staff.county_admin, "因冻")
    reference_lists.reference_item_set_active(
        by=staff.county_admin, item=stopped, reference_list=RISKS, active=False, expected_version=1
    )
    own = check(staff.village_clerk, roster(case_rows(tree, "H1", "因旱")))
    assert own.status == ImportStatus.READY, own.errors
    assert own.counts["cases"]["new"] == 1
    foreign = check(staff.village_clerk, roster(case_rows(tree, "H1", "因涝")))
    unknown = check(staff.village_clerk, roster(case_rows(tree, "H1", "因外星人")))
    assert [error["message"] for error in foreign.errors] == ["未知的风险类型：因涝"]
    assert [error["message"] for error in unknown.errors] == ["未知的风险类型：因外星人"]
    new_stopped = check(staff.village_clerk, roster(case_rows(tree, "H1", "因冻")))
    assert [error["message"] for error in new_stopped.errors] == ["风险类型已停用，不能新填：因冻"]


def test_an_exported_case_with_a_stopped_entry_reads_back_unchanged(staff: Staff, tree: Tree, media: None) -> None:
    case_with_a_stopped_entry(staff, tree, "因旱")
    response = client_for(staff.village_clerk).get(reverse("export_download", args=["roster"]))
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert check(staff.village_clerk, content).status == ImportStatus.UNCHANGED


def test_the_api_reads_another_county_entry_as_an_unknown_one(staff: Staff, tree: Tree, admin_b: User) -> None:
    own, theirs = add(staff.county_admin, "因旱"), add(admin_b, "因涝")
    target = lifted(staff, tree)
    _, secret = make_writer(tree.county)
    body = {"household": target.number, "category": "unstable", "identified_month": "2025-01"}
    for given in (theirs.name, theirs.code):
        refused = send(secret, "POST", "/api/v1/monitoring-cases/", {**body, "risk_types": [given]})
        assert refused.status_code == 422, refused.content
        assert f"未知的风险类型：{given}" in refused.content.decode()
    created = send(secret, "POST", "/api/v1/monitoring-cases/", {**body, "risk_types": [own.name, "因病"]})
    assert created.status_code == 201, created.content
    assert sorted(created.json()["risk_types"]) == sorted([own.code, "illness"])
    assert set(MonitoringCase.objects.get(household=target).risk_types.all()) == {
        own,
        RiskType.objects.get(code="illness"),
    }
