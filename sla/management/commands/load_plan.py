"""`python manage.py load_plan FILE [FILE...]`: validate every file, then apply them all."""

from django.core.management.base import BaseCommand, CommandError

from sla.plan import PlanError, PlanInvalid, read_plan
from sla.plan.apply import plans_apply


class Command(BaseCommand):
    help = (
        "Load or update services from plan files (docs/plans.md). Every file is validated first; "
        "if any has an error, all errors are printed and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, files, **options):
        plans, errors, slugs = [], [], {}
        for name in files:
            try:
                plan = read_plan(name)
            except PlanInvalid as exc:
                errors.extend(exc.errors)
                continue
            if plan.service.slug in slugs:
                errors.append(
                    PlanError(
                        name,
                        "service.slug",
                        None,
                        f"{plan.service.slug!r} is also the slug in {slugs[plan.service.slug]}",
                    )
                )
                continue
            slugs[plan.service.slug] = name
            plans.append(plan)
        if errors:
            for error in errors:
                self.stderr.write(str(error))
            bad = len({error.file for error in errors})
            raise CommandError(f"{len(errors)} error(s) in {bad} file(s); nothing was loaded")
        for slug, report in plans_apply(plans=plans):
            self.stdout.write(f"{slug}: {report}")
