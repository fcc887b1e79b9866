# accel board flow, step 3 of 3: synthesis, implementation, bitstream; collects <name>.bit + <name>.hwh (the pair
# PYNQ's Overlay loads) and the utilisation / timing reports into board/output/.
# Run: vivado -mode batch -source build.tcl   (after block_design.tcl)
set script_dir [file dirname [file normalize [info script]]]
source [file join $script_dir settings.tcl]

set proj_dir [file join $script_dir vivado]
set out_dir [file join $script_dir output]
set jobs 2
if {[info exists ::env(ACCEL_VIVADO_JOBS)]} { set jobs $::env(ACCEL_VIVADO_JOBS) }

open_project [file join $proj_dir $accel_project.xpr]
reset_run synth_1
launch_runs synth_1 -jobs $jobs
wait_on_run synth_1
if {[get_property PROGRESS [get_runs synth_1]] ne "100%"} {
  error "accel: synthesis of $accel_bd_name failed; see [get_property DIRECTORY [get_runs synth_1]]/runme.log"
}
launch_runs impl_1 -to_step write_bitstream -jobs $jobs
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
  error "accel: implementation of $accel_bd_name failed; see [get_property DIRECTORY [get_runs impl_1]]/runme.log"
}

open_run impl_1
file mkdir $out_dir
report_utilization -file [file join $out_dir utilization.rpt]
report_timing_summary -file [file join $out_dir timing_summary.rpt]
set wns [get_property STATS.WNS [get_runs impl_1]]
if {$wns ne "" && $wns < 0} {
  puts "accel: WARNING: timing not met at $accel_fclk_mhz MHz (WNS $wns ns); see $out_dir/timing_summary.rpt"
}

# The .hwh lives in the project's generated sources: <proj>.gen/ (Vivado 2020.2+) or <proj>.srcs/ (older).
set impl_dir [get_property DIRECTORY [get_runs impl_1]]
set bit [file join $impl_dir ${accel_bd_name}_wrapper.bit]
set hwh_candidates [list \
  [file join $proj_dir $accel_project.gen sources_1 bd $accel_bd_name hw_handoff $accel_bd_name.hwh] \
  [file join $proj_dir $accel_project.srcs sources_1 bd $accel_bd_name hw_handoff $accel_bd_name.hwh]]
set hwh [lindex $hwh_candidates 0]
foreach candidate $hwh_candidates {
  if {[file exists $candidate]} { set hwh $candidate; break }
}
file copy -force $bit [file join $out_dir $accel_output_name.bit]
file copy -force $hwh [file join $out_dir $accel_output_name.hwh]
close_project
puts "accel: bitstream [file join $out_dir $accel_output_name.bit] (+ .hwh), reports in $out_dir"
