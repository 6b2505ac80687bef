"""The masking matrix: every role × every page, admin page, history view, export and download that
can carry a 身份证号, a phone number or a birth date. Full values only for roles with
`households.view_personal_data`; everyone else sees masked numbers and an age."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from households.excel.models import ImportKind
from households.id_numbers import mask_id_number, mask_phone
from households.models import Household, Member, Relation
from households.personal_data import age_on, today_in_china
from regions.models import User
from tests.conftest import Staff
from tests.factories import Tree, household, id_number, member
from workbooks.models import ImportBatch, ImportStatus

MASKED_ROLES = ["county_viewer", "city_viewer"]
REVEALING_ROLES = ["village_clerk", "township_admin", "county_admin", "superuser"]
ROLES = MASKED_ROLES + REVEALING_ROLES

PHONE, OLD_PHONE, HELPER_PHONE = "13812345678", "13700001111", "13987654321"


@dataclass
class Personal:
    """A household whose phone and head's 身份证号 were corrected once, and a batch that previews a change."""

    household: Household
    head: Member
    id_number: str
    old_id_number: str
    batch: ImportBatch

    @property
    def birth_date(self) -> date:
        return self.head.birth_date

    @property
    def age(self) -> str:
        return f"{age_on(self.birth_date, today_in_china())}岁"


@pytest.fixture(autouse=True)
def media_in_tmp(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


def upload_workbook(rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_batch(*, by: User, number: str, id_number: str) -> ImportBatch:
    """A checked roster batch of `by` whose preview changes the phone and whose error quotes a 身份证号."""
    batch = ImportBatch(
        kind=ImportKind.ROSTER,
        status=ImportStatus.INVALID,
        uploaded_by=by,
        region=by.region,
        file_name="花名册.xlsx",
        file_sha256="0" * 64,
        sheet_name="花名册",
        header_row=1,
        row_count=1,
        error_count=1,
        errors=[
            {
                "sheet": "花名册",
                "row": 2,
                "column": "身份证号",
                "message": f"身份证号 {id_number} 在文件中重复",
                "who": f"{number} 张三",
            }
        ],
        changes=[{"subject": number, "row": 2, "field": "联系电话", "old": OLD_PHONE, "new": PHONE}],
    )
    content = upload_workbook([["户编号", "户主姓名", "身份证号", "联系电话"], [number, "张三", id_number, PHONE]])
    batch.file.save("upload.xlsx", ContentFile(content), save=False)
    batch.save()
    return batch


@pytest.fixture
def personal(tree: Tree, staff: Staff) -> Personal:
    target = household(
        staff.village_clerk,
        tree.village_a1,
        phone=OLD_PHONE,
        helper_phone=HELPER_PHONE,
        members=[member(birth="19800315"), member(Relation.SPOUSE, name="李四", birth="19820202")],
    )
    target.phone = PHONE
    target.save()
    head = target.members.get(relation=Relation.HEAD)
    old_id_number = head.id_number
    head.id_number = id_number("19800315")
    head.full_clean()
    head.save()
    batch = make_batch(by=staff.village_clerk, number=target.number, id_number=head.id_number)
    return Personal(household=target, head=head, id_number=head.id_number, old_id_number=old_id_number, batch=batch)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response: object) -> str:
    """The page's HTML, or every XML part of an .xlsx download."""
    assert getattr(response, "status_code", None) == 200, getattr(response, "status_code", None)
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content  # type: ignore[attr-defined]
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "".join(archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml"))
    return content.decode()


def admin_export(client: Client, model: str) -> str:
    url = reverse(f"admin:households_{model}_export")
    form = client.get(url).context["form"]
    data = {
        "format": "0",
        "resource": "0",
        **{name: "on" for name, field in form.fields.items() if field.initial is True},
    }
    return text_of(client.post(url, data))


def latest_version(model: type[Household] | type[Member], pk: int) -> int:
    return model.history.filter(id=pk).order_by("-history_id").values_list("history_id", flat=True)[0]


def localized(day: date) -> str:
    with translation.override("zh-hans"):
        return str(formats.date_format(day))


# What each surface shows: how to read it, and which personal values it carries in full.
Reader = Callable[[Client, Personal], str]
Values = Callable[[Personal], list[tuple[str, str]]]


def ids(p: Personal) -> list[tuple[str, str]]:
    return [(p.id_number, mask_id_number(p.id_number))]


def phones(p: Personal) -> list[tuple[str, str]]:
    return [(PHONE, mask_phone(PHONE)), (HELPER_PHONE, mask_phone(HELPER_PHONE))]


def changed_phone(p: Personal) -> list[tuple[str, str]]:
    return [(PHONE, mask_phone(PHONE)), (OLD_PHONE, mask_phone(OLD_PHONE))]


def changed_id(p: Personal) -> list[tuple[str, str]]:
    return [*ids(p), (p.old_id_number, mask_id_number(p.old_id_number))]


SURFACES: dict[str, tuple[Reader, Values]] = {
    "page: household detail (members, phones, history)": (
        lambda c, p: text_of(c.get(reverse("household_detail", args=[p.household.pk]))),
        lambda p: [
            *changed_id(p),
            *phones(p),
            (OLD_PHONE, mask_phone(OLD_PHONE)),
            (p.birth_date.isoformat(), p.age),
        ],
    ),
    "page: household list": (lambda c, p: text_of(c.get(reverse("household_list"))), ids),
    "page: import batch preview": (
        lambda c, p: text_of(c.get(reverse("import_batch", args=[p.batch.pk]))),
        lambda p: [*changed_phone(p), *ids(p)],
    ),
    "export: roster (immediate)": (
        lambda c, p: text_of(c.get(reverse("export_download", args=["roster"]))),
        lambda p: [*ids(p), (PHONE, mask_phone(PHONE))],
    ),
    "admin: household change (with member inline)": (
        lambda c, p: text_of(c.get(reverse("admin:households_household_change", args=[p.household.pk]))),
        lambda p: [*ids(p), *phones(p)],
    ),
    "admin: household history": (
        lambda c, p: text_of(c.get(reverse("admin:households_household_history", args=[p.household.pk]))),
        changed_phone,
    ),
    "admin: household history version": (
        lambda c, p: text_of(
            c.get(
                reverse(
                    "admin:households_household_simple_history",
                    args=[p.household.pk, latest_version(Household, p.household.pk)],
                )
            )
        ),
        phones,
    ),
    "admin: household export": (lambda c, p: admin_export(c, "household"), lambda p: [(PHONE, mask_phone(PHONE))]),
    "admin: member list": (
        lambda c, p: text_of(c.get(reverse("admin:households_member_changelist"))),
        lambda p: [(localized(p.birth_date), p.age)],
    ),
    "admin: member change": (
        lambda c, p: text_of(c.get(reverse("admin:households_member_change", args=[p.head.pk]))),
        ids,
    ),
    "admin: member history": (
        lambda c, p: text_of(c.get(reverse("admin:households_member_history", args=[p.head.pk]))),
        changed_id,
    ),
    "admin: member history version": (
        lambda c, p: text_of(
            c.get(
                reverse(
                    "admin:households_member_simple_history",
                    args=[p.head.pk, latest_version(Member, p.head.pk)],
                )
            )
        ),
        ids,
    ),
    "admin: member export": (lambda c, p: admin_export(c, "member"), ids),
}


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("role", ROLES)
def test_personal_data_is_shown_in_full_only_to_roles_with_the_permission(
    personal: Personal, staff: Staff, role: str, surface: str
) -> None:
    read, values = SURFACES[surface]
    text = read(login(getattr(staff, role)), personal)
    for full, masked in values(personal):
        if role in REVEALING_ROLES:
            assert full in text, f"{full} missing"
        else:
            assert full not in text, f"{full} disclosed"
            assert masked in text, f"{masked} missing"


@pytest.mark.parametrize("role", ["county_viewer", "superuser"])
def test_the_admin_import_batch_page_masks_its_preview_for_staff_without_the_permission(
    personal: Personal, staff: Staff, role: str
) -> None:
    user = getattr(staff, role)
    # Only superusers open import batches in the admin today; a role granted it must still see masks.
    user.user_permissions.add(Permission.objects.get(codename="view_importbatch"))
    url = reverse("admin:workbooks_importbatch_change", args=[personal.batch.pk])
    text = text_of(login(User.objects.get(pk=user.pk)).get(url))
    for full, masked in [*changed_phone(personal), *ids(personal)]:
        if role == "superuser":
            assert full in text
        else:
            assert full not in text and masked in text
    assert "upload.xlsx" not in text  # the stored file is downloaded from the batch page, where access is checked


@pytest.mark.parametrize("download", ["import_batch_file", "import_batch_errors"])
@pytest.mark.parametrize("role", ROLES)
def test_uploads_and_error_workbooks_go_only_to_the_uploader_and_roles_with_the_permission(
    personal: Personal, staff: Staff, role: str, download: str
) -> None:
    response = login(getattr(staff, role)).get(reverse(download, args=[personal.batch.pk]))
    if role in REVEALING_ROLES:
        assert personal.id_number in text_of(response)
    else:
        assert response.status_code == 404


def test_batch_page_offers_downloads_only_to_those_who_may_download(personal: Personal, staff: Staff) -> None:
    url = reverse("import_batch", args=[personal.batch.pk])
    file_url = reverse("import_batch_file", args=[personal.batch.pk])
    assert file_url in login(staff.township_admin).get(url).content.decode()
    assert file_url not in login(staff.county_viewer).get(url).content.decode()


@pytest.mark.parametrize("download", ["import_batch_file", "import_batch_errors"])
def test_an_uploader_without_the_permission_still_gets_their_own_files(
    personal: Personal, staff: Staff, download: str
) -> None:
    own = make_batch(by=staff.county_viewer, number=personal.household.number, id_number=personal.id_number)
    assert login(staff.county_viewer).get(reverse(download, args=[own.pk])).status_code == 200
    # Someone else's batch in the same scope stays closed to the same user.
    assert login(staff.county_viewer).get(reverse(download, args=[personal.batch.pk])).status_code == 404


def test_outsiders_get_404_for_files_even_with_the_permission(personal: Personal, staff: Staff) -> None:
    client = login(staff.other_township_admin)
    for name in ["import_batch", "import_batch_file", "import_batch_errors"]:
        assert client.get(reverse(name, args=[personal.batch.pk])).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_searching_the_household_list_by_id_number_needs_the_permission(
    personal: Personal, staff: Staff, role: str
) -> None:
    response = login(getattr(staff, role)).get(reverse("household_list"), {"q": personal.id_number})
    assert response.context["page"].paginator.count == (1 if role in REVEALING_ROLES else 0)


@pytest.mark.parametrize("model", ["household", "member"])
@pytest.mark.parametrize("role", ROLES)
def test_admin_search_by_id_number_needs_the_permission(
    personal: Personal, staff: Staff, role: str, model: str
) -> None:
    response = login(getattr(staff, role)).get(
        reverse(f"admin:households_{model}_changelist"), {"q": personal.id_number}
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == (1 if role in REVEALING_ROLES else 0)


def test_age_is_counted_in_completed_years_at_the_date_in_china() -> None:
    assert age_on(date(1980, 3, 15), date(2026, 3, 14)) == 45
    assert age_on(date(1980, 3, 15), date(2026, 3, 15)) == 46


def test_a_local_household_number_made_of_the_head_id_number_is_masked_too(tree: Tree, staff: Staff) -> None:
    head = member(birth="19750505")
    local = household(staff.village_clerk, tree.village_a1, number=f"L{head.id_number}", members=[head])
    urls = [
        reverse("household_list"),
        reverse("household_detail", args=[local.pk]),
        reverse("admin:households_household_changelist"),
    ]
    viewer, clerk = login(staff.county_viewer), login(staff.village_clerk)
    for url in urls:
        assert head.id_number not in text_of(viewer.get(url)), url
        assert f"L{mask_id_number(head.id_number)}" in text_of(viewer.get(url)), url
        assert local.number in text_of(clerk.get(url)), url


@pytest.mark.parametrize(
    "query",
    [
        "id_number__startswith={prefix}",
        "birth_date=1980-03-15",
        "birth_date__year=1980",
        "household__phone={phone}",  # (Django allows no relational lookup outside list_filter anyway)
    ],
)
def test_admin_url_lookups_on_personal_fields_answer_nothing_to_masked_roles(
    personal: Personal, staff: Staff, query: str
) -> None:
    url = reverse("admin:households_member_changelist")
    lookup = query.format(prefix=personal.id_number[:10], phone=PHONE)
    masked = login(staff.county_viewer).get(f"{url}?{lookup}")
    assert masked.status_code == 400, masked.status_code
    if "__phone" not in lookup:
        assert login(staff.superuser).get(f"{url}?{lookup}").status_code == 200


def test_a_household_lookup_by_phone_in_the_admin_answers_nothing_to_masked_roles(
    personal: Personal, staff: Staff
) -> None:
    url = reverse("admin:households_household_changelist")
    assert login(staff.county_viewer).get(f"{url}?phone={PHONE}").status_code == 400


def test_a_member_saved_in_the_admin_moves_its_household_on(personal: Personal, staff: Staff) -> None:
    from django.contrib import admin
    from django.test import RequestFactory

    before = Household.objects.get(pk=personal.household.pk).version
    request = RequestFactory().post("/")
    request.user = staff.superuser
    head = Member.objects.get(pk=personal.head.pk)
    head.work_place = "管理员改的"
    admin.site._registry[Member].save_model(request, head, form=None, change=True)
    assert Household.objects.get(pk=personal.household.pk).version == before + 1
