"""Reports for people: t-way coverage tables (text, Markdown, HTML), the HTML page kit and
contact sheets."""
