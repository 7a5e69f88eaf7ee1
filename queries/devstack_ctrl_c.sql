-- Ctrl-C share of all wrapped runs (not test runs).
SELECT avg(CASE WHEN signal = 2 THEN 1.0 ELSE 0.0 END) AS ctrl_c_share,
       count(DISTINCT user) AS installations
FROM devstack_runs
WHERE exit_status IS NOT NULL AND is_test = 'no'
