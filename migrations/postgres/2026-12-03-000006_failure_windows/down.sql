DROP TABLE failure_windows;
