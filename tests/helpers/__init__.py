"""What the tests share, by what it holds: ``cli`` (running caseload), ``store`` (the
store under test, read and written directly), ``force`` (the one builder of test
forces), ``crash`` (watching a command that is killed) and ``sample`` (the sample
force's team and audit days). Test modules import from here, never from each other."""
