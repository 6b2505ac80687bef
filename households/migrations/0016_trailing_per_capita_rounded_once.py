"""Recompute every household's 近四季度人均纯收入 with the rule of DOMAIN §9: Σ 家庭纯收入 ÷ 家庭人口
(the size on the window's last record), rounded once — it used to add four rounded quarterly figures."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations


def recompute(apps, schema_editor):  # type: ignore[no-untyped-def]
    Household = apps.get_model("households", "Household")
    IncomeRecord = apps.get_model("households", "IncomeRecord")
    last = 0
    while True:
        batch = list(
            Household.objects.filter(pk__gt=last, latest_income_year__isnull=False)
            .order_by("pk")
            .values_list("pk", "latest_income_year", "latest_income_quarter")[:2000]
        )
        if not batch:
            return
        last = batch[-1][0]
        records: dict[int, dict[int, tuple[Decimal, int]]] = {}
        rows = IncomeRecord.objects.filter(household_id__in=[pk for pk, _, _ in batch]).values_list(
            "household_id", "year", "quarter", "net_income", "household_size"
        )
        for household_id, year, quarter, net, size in rows:
            records.setdefault(household_id, {})[year * 4 + quarter - 1] = (net, size)
        changed = []
        for pk, year, quarter in batch:
            end = year * 4 + quarter - 1
            own = records.get(pk, {})
            window = [own[index] for index in range(end - 3, end + 1) if index in own]
            if len(window) < 4 or window[-1][1] <= 0:
                continue
            total = sum((net for net, _ in window), Decimal(0))
            value = (total / window[-1][1]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            changed.append(Household(pk=pk, trailing_per_capita=value))
        Household.objects.bulk_update(changed, ["trailing_per_capita"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("households", "0015_visible_text")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
