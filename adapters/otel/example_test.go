package otel_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/otel"
)

// Example instruments a Service: a span per use case with its port calls
// under it, and the workflow's metrics. A host passes its own providers,
// with exporters to its tracing and metrics backends.
func Example() {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = tp.Shutdown(ctx); _ = mp.Shutdown(ctx) }()

	obs, err := otel.New(otel.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		panic(err)
	}
	kit := memory.NewKit(t0)
	kit.Platform.SeedDemo()
	svc, err := cancellation.New(obs.Instrument(kit.Config()))
	if err != nil {
		panic(err)
	}
	if _, err := svc.Start(ctx, memory.AccountEligible); err != nil {
		panic(err)
	}

	var ports int
	for _, s := range spans.GetSpans() {
		if s.Parent.IsValid() {
			ports++
		} else {
			fmt.Println("span:", s.Name)
		}
	}
	fmt.Println("port calls under it:", ports) // the account, then one per default rule
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == otel.MetricTransitions {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				to, _ := dp.Attributes.Value("to")
				fmt.Println("transitions to", to.AsString()+":", dp.Value)
			}
		}
	}
	// Output:
	// span: cancellation.start
	// port calls under it: 10
	// transitions to started: 1
}
