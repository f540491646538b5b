//! The list of the components, each paired with the vendor that runs it, in status order.
//!
//! Adding a component: one line in each of the three lists below (field, default, visit).

use kube::core::ApiResource;

use super::entry::{ComponentEntry, Entry};
use super::visitor::{ComponentVisitor, VendorOf};
use crate::model::{ClickHouse, ComponentDescriptor, Kafka, Minio, MySql, Redis};
use crate::vendors::{
    self, Rule, altinity::Altinity, minio_operator::MinioOperator, opstree::Opstree, percona::Percona, strimzi::Strimzi,
};

/// Every component, in status order, with its vendor.
#[derive(Clone, Copy)]
pub struct Registry {
    /// MySQL.
    pub mysql: &'static VendorOf<MySql>,
    /// Redis.
    pub redis: &'static VendorOf<Redis>,
    /// Kafka.
    pub kafka: &'static VendorOf<Kafka>,
    /// Object storage.
    pub minio: &'static VendorOf<Minio>,
    /// ClickHouse.
    pub clickhouse: &'static VendorOf<ClickHouse>,
}

impl Default for Registry {
    /// Percona, Opstree, Strimzi, MinIO and Altinity.
    fn default() -> Self {
        Registry { mysql: &Percona, redis: &Opstree, kafka: &Strimzi, minio: &MinioOperator, clickhouse: &Altinity }
    }
}

impl Registry {
    /// Visits every component in status order.
    pub fn visit(&self, visitor: &mut impl ComponentVisitor) {
        visitor.visit::<MySql>(self.mysql);
        visitor.visit::<Redis>(self.redis);
        visitor.visit::<Kafka>(self.kafka);
        visitor.visit::<Minio>(self.minio);
        visitor.visit::<ClickHouse>(self.clickhouse);
    }

    /// Every component, erased, in status order.
    pub fn entries(&self) -> Vec<Box<dyn ComponentEntry>> {
        struct Collect(Vec<Box<dyn ComponentEntry>>);
        impl ComponentVisitor for Collect {
            fn visit<D: ComponentDescriptor>(&mut self, vendor: &'static VendorOf<D>) {
                self.0.push(Box::new(Entry::<D>::new(vendor)));
            }
        }
        let mut collect = Collect(Vec::new());
        self.visit(&mut collect);
        collect.0
    }

    /// Every component's spec error, in component order.
    pub fn spec_errors(&self, resolution: &crate::model::Resolution) -> Vec<crate::model::ModelError> {
        self.entries().iter().filter_map(|e| e.spec_error(resolution)).collect()
    }

    /// Every component, in status order.
    pub fn components(&self) -> Vec<crate::model::Component> {
        self.entries().iter().map(|e| e.component()).collect()
    }

    /// Every kind the operator watches and caches besides its own: the vendors' kinds, their
    /// record kinds, Secrets and StatefulSets.
    pub fn watched_kinds(&self) -> Vec<ApiResource> {
        let entries = self.entries();
        let mut kinds: Vec<ApiResource> = entries.iter().flat_map(|e| e.kinds()).collect();
        kinds.extend(self.record_kinds());
        kinds.extend(vendors::core_kinds());
        kinds
    }

    /// The vendors' record kinds (see `Vendor::record_kinds`): watched without a label selector.
    pub fn record_kinds(&self) -> Vec<ApiResource> {
        self.entries().iter().flat_map(|e| e.record_kinds()).collect()
    }

    /// Where each vendor's CRDs name its release (for the vendors whose CRDs do).
    pub fn release_sources(&self) -> Vec<vendors::ReleaseSource> {
        self.entries().iter().filter_map(|e| e.release_source()).collect()
    }

    /// Every image the operator can deploy by default, sorted, without repeats.
    pub fn default_images(&self, edition: crate::model::Edition) -> Vec<String> {
        let mut images: Vec<String> = self.entries().iter().flat_map(|e| e.default_images(edition)).collect();
        images.sort();
        images.dedup();
        images
    }

    /// The vendors' RBAC rows, in component order.
    pub fn access_rules(&self) -> Vec<Rule> {
        self.entries().iter().flat_map(|e| e.access_rules().iter().copied()).collect()
    }
}
