"""The stack's pictures: QuickSight dashboards, the CloudWatch dashboard and a local preview.

``definitions`` is the one definition of every dataset and visual. The template's QuickSight
resources (``quicksight``), the CloudWatch dashboard (``cloudwatch``) and the local preview
(``preview``) are all generated from it or from the template itself.
"""
