"""The shared body of the import_roster and import_income management commands."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbooks.batches import import_batch_check, import_batch_claim, import_batch_confirm, import_batch_create
from workbooks.models import ImportStatus


class ImportCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="只校验、预览，不写入")
        parser.add_argument("--user", default="", help="以该用户的身份和管辖范围导入（默认：第一个超级管理员）")

    def handle(self, *args: Any, file: Path, dry_run: bool, user: str, **options: Any) -> None:
        try:
            self._import(file=file, dry_run=dry_run, user=user)
        except PermissionDenied as error:
            # A read-only role (县级查看) or a file outside the account's region: say so, no traceback.
            raise CommandError(f"用户 {user or '（超级管理员）'} 不能执行此导入：{error}") from error
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from error

    def _import(self, *, file: Path, dry_run: bool, user: str) -> None:
        from regions.models import User

        account = (
            User.objects.filter(username=user).first()
            if user
            else User.objects.filter(is_superuser=True).order_by("pk").first()
        )
        if account is None:
            raise CommandError(f"用户 {user or '（超级管理员）'} 不存在")
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        started = time.monotonic()
        upload = SimpleUploadedFile(file.name, file.read_bytes())
        batch = import_batch_create(by=account, kind=self.kind, upload=upload)
        batch = import_batch_check(batch_id=batch.pk)
        self.stdout.write(
            f"批次 #{batch.pk} 校验用时 {time.monotonic() - started:.1f} 秒：{batch.get_status_display()}"
        )
        if batch.refusal:
            raise CommandError(batch.refusal)
        for name, counts in batch.counts.items():
            self.stdout.write(
                f"  {name}: 新增 {counts['new']}，修改 {counts['updated']}，无变化 {counts['unchanged']}，"
                f"有错误 {counts['error']}"
            )
        if batch.ignored_columns:
            self.stdout.write(f"  以下列未被识别，其中的数据不会导入：{'、'.join(batch.ignored_columns)}")
        for error in batch.errors[:50]:
            self.stdout.write(f"  第{error['row']}行 [{error['column']}] {error['message']}")
        if batch.error_count:
            raise CommandError(f"共 {batch.error_count} 处错误，未导入")
        if dry_run or batch.status != ImportStatus.READY:
            return
        applying = time.monotonic()
        import_batch_claim(batch=batch, by=account)
        batch = import_batch_confirm(batch_id=batch.pk, by_id=account.pk)
        self.stdout.write(f"导入用时 {time.monotonic() - applying:.1f} 秒：{batch.get_status_display()}")
        if batch.status != ImportStatus.APPLIED:
            raise CommandError(batch.refusal or "导入失败，未写入任何数据")
